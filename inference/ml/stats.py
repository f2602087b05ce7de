"""The statistics of the study's evaluation, on plain arrays.

ROC curves one class against the rest, the AUC with its DeLong 95% confidence interval, DeLong's test for
two correlated AUCs, Wilson score intervals for proportions, the confusion matrix and the per-class
sensitivity, specificity and accuracy at the predicted class (the paper's Table 3, Figures 4 and 5), and the
descriptive statistics of Table 1 (Table 2's summary is the metrics core's, voi.metrics).

This module imports no Django: it takes numpy arrays and returns small frozen dataclasses whose
``as_dict()`` is JSON-ready (plain floats and ints, ``None`` where a value is undefined).

Example:
    >>> import numpy as np
    >>> positive = np.array([0, 0, 1, 1], dtype=bool)
    >>> auc_with_confidence_interval(positive=positive, scores=np.array([0.1, 0.4, 0.35, 0.8])).auc
    0.75
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats as scipy_stats

# The paper reports 95% intervals throughout (method.md, "Statistics").
CONFIDENCE_LEVEL = 0.95
# Normality is rejected below this p-value; the conventional level, as in the paper's Table 1.
NORMALITY_ALPHA = 0.05
NORMALITY_TESTS = ("kolmogorov-smirnov", "shapiro-wilk")
# Above this many values the Kolmogorov-Smirnov p-value comes from the asymptotic distribution: it agrees
# with the exact one to well under 0.01 there and costs a fraction of the time on a 10,000-case cohort.
KS_EXACT_MAX_N = 1000
# DeLong's variance of a difference at or below this is zero up to rounding (sums of squared placements).
ZERO_VARIANCE = 1e-15
# Two AUCs (means of placements in [0, 1]) this close are equal up to rounding.
EQUAL_AUC_TOLERANCE = 1e-12


def _z_for(confidence: float) -> float:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie strictly between 0 and 1, got {confidence}")
    return float(scipy_stats.norm.ppf(0.5 + confidence / 2.0))


def _plain(value: float | None) -> float | None:
    """A JSON-safe float: NaN and infinities become None, numpy scalars become Python floats."""
    if value is None or not math.isfinite(float(value)):
        return None
    return float(value)


# --- Proportions -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Proportion:
    """A proportion count/total with its confidence interval."""

    count: int
    total: int
    estimate: float
    low: float
    high: float

    def as_dict(self) -> dict:
        return asdict(self)


def wilson_interval(count: int, total: int, *, confidence: float = CONFIDENCE_LEVEL) -> Proportion:
    """The Wilson score interval for count successes out of total (Wilson 1927, JASA 22:209).

    Unlike the Wald interval it stays inside [0, 1] and keeps its coverage near 0 and 1, which matters for
    the small osteoporosis groups (18 and 19 cases in the paper's validation and test cohorts).
    """
    if total <= 0:
        raise ValueError(f"a proportion needs a positive total, got {total}")
    if not 0 <= count <= total:
        raise ValueError(f"count must lie between 0 and total ({total}), got {count}")
    z = _z_for(confidence)
    p = count / total
    denominator = 1.0 + z * z / total
    centre = (p + z * z / (2 * total)) / denominator
    half_width = z / denominator * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total))
    return Proportion(int(count), int(total), p, max(0.0, centre - half_width), min(1.0, centre + half_width))


# --- ROC curves ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RocCurve:
    """Operating points from the strictest threshold to the loosest; the first point is (0, 0)."""

    false_positive_rate: np.ndarray
    true_positive_rate: np.ndarray
    thresholds: np.ndarray

    def thinned(self, max_points: int) -> RocCurve:
        """At most max_points points, evenly spread along the curve, both ends kept (for drawing)."""
        if max_points < 2:
            raise ValueError(f"a curve needs at least 2 points, got max_points={max_points}")
        if len(self.thresholds) <= max_points:
            return self
        keep = np.unique(np.round(np.linspace(0, len(self.thresholds) - 1, max_points)).astype(int))
        return RocCurve(self.false_positive_rate[keep], self.true_positive_rate[keep], self.thresholds[keep])

    def as_dict(self) -> dict:
        return {
            "fpr": [float(v) for v in self.false_positive_rate],
            "tpr": [float(v) for v in self.true_positive_rate],
            "thresholds": [_plain(v) for v in self.thresholds],
        }


def _check_binary_scores(positive: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    positive = np.asarray(positive)
    scores = np.asarray(scores, dtype=float)
    if positive.ndim != 1 or scores.shape[-1] != positive.shape[0]:
        raise ValueError(f"scores {scores.shape} and positive {positive.shape} must cover the same cases")
    if positive.dtype != bool:
        if not np.isin(positive, (0, 1)).all():
            raise ValueError("positive must hold booleans or 0/1")
        positive = positive.astype(bool)
    if not np.isfinite(scores).all():
        raise ValueError("scores must be finite numbers")
    return positive, scores


def roc_curve(*, positive: np.ndarray, scores: np.ndarray) -> RocCurve:
    """The empirical ROC curve of scores for positive cases against the rest (higher = more positive).

    One point per distinct score, so tied scores move the curve diagonally, as in pROC and scikit-learn.
    """
    positive, scores = _check_binary_scores(positive, scores)
    n_positive, n_negative = int(positive.sum()), int((~positive).sum())
    if n_positive == 0 or n_negative == 0:
        raise ValueError("an ROC curve needs at least one positive and one negative case")
    order = np.argsort(-scores, kind="mergesort")
    sorted_scores, sorted_positive = scores[order], positive[order]
    last_of_each_score = np.r_[np.flatnonzero(np.diff(sorted_scores)), len(sorted_scores) - 1]
    true_positives = np.cumsum(sorted_positive)[last_of_each_score]
    false_positives = last_of_each_score + 1 - true_positives
    return RocCurve(
        false_positive_rate=np.r_[0.0, false_positives / n_negative],
        true_positive_rate=np.r_[0.0, true_positives / n_positive],
        thresholds=np.r_[np.inf, sorted_scores[last_of_each_score]],
    )


# --- DeLong ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DelongComponents:
    """AUCs of k scorings of the same cases and the DeLong covariance matrix of those AUCs (k x k)."""

    aucs: np.ndarray
    covariance: np.ndarray
    n_positive: int
    n_negative: int


def delong_components(*, positive: np.ndarray, scores: np.ndarray) -> DelongComponents:
    """DeLong, DeLong & Clarke-Pearson (1988, Biometrics 44:837) by the fast algorithm of Sun & Xu (2014,
    IEEE Signal Process. Lett. 21:1389): midranks replace the O(m n) pairwise kernel, O(n log n) in all.

    scores is (n_cases,) for one scoring or (k, n_cases) for k scorings of the same cases. The covariances
    use the unbiased (n - 1) estimator, as R's pROC does, so the results match pROC's "delong" method.
    """
    positive, scores = _check_binary_scores(positive, scores)
    scores = np.atleast_2d(scores)
    cases, controls = scores[:, positive], scores[:, ~positive]
    m, n = cases.shape[1], controls.shape[1]
    if m < 2 or n < 2:
        raise ValueError(f"DeLong's variance needs at least 2 positive and 2 negative cases, got {m} and {n}")
    rank_cases = scipy_stats.rankdata(cases, axis=1)
    rank_controls = scipy_stats.rankdata(controls, axis=1)
    rank_all = scipy_stats.rankdata(np.hstack([cases, controls]), axis=1)
    # Placement values: for each case the share of controls below it (ties count half), and vice versa.
    case_placements = (rank_all[:, :m] - rank_cases) / n
    control_placements = 1.0 - (rank_all[:, m:] - rank_controls) / m
    aucs = case_placements.mean(axis=1)
    covariance = np.atleast_2d(np.cov(case_placements)) / m + np.atleast_2d(np.cov(control_placements)) / n
    return DelongComponents(aucs, covariance, m, n)


@dataclass(frozen=True)
class AucEstimate:
    auc: float
    low: float
    high: float
    variance: float
    n_positive: int
    n_negative: int

    def as_dict(self) -> dict:
        return asdict(self)


def auc_with_confidence_interval(
    *, positive: np.ndarray, scores: np.ndarray, confidence: float = CONFIDENCE_LEVEL
) -> AucEstimate:
    """The AUC with its DeLong confidence interval, normal approximation clipped to [0, 1] (as pROC)."""
    z = _z_for(confidence)
    components = delong_components(positive=positive, scores=np.asarray(scores, dtype=float).reshape(-1))
    auc, variance = float(components.aucs[0]), float(components.covariance[0, 0])
    half_width = z * math.sqrt(max(variance, 0.0))
    return AucEstimate(
        auc,
        max(0.0, auc - half_width),
        min(1.0, auc + half_width),
        variance,
        components.n_positive,
        components.n_negative,
    )


@dataclass(frozen=True)
class DelongTest:
    """DeLong's test that two AUCs measured on the same cases are equal (two-sided)."""

    auc_a: float
    auc_b: float
    difference: float
    difference_low: float
    difference_high: float
    z: float | None
    p_value: float

    def as_dict(self) -> dict:
        return {key: _plain(value) for key, value in asdict(self).items()}


def delong_test(
    *, positive: np.ndarray, scores_a: np.ndarray, scores_b: np.ndarray, confidence: float = CONFIDENCE_LEVEL
) -> DelongTest:
    """Compare two scorings of the same cases, e.g. two model versions, by DeLong's paired test.

    ``as_dict()`` turns an infinite Z into None (JSON has no infinity); its p-value stays 0.
    """
    z_level = _z_for(confidence)
    components = delong_components(positive=positive, scores=np.vstack([scores_a, scores_b]))
    (auc_a, auc_b), c = components.aucs, components.covariance
    difference = float(auc_a - auc_b)
    variance = float(c[0, 0] + c[1, 1] - 2.0 * c[0, 1])
    if variance <= ZERO_VARIANCE:
        return _delong_without_variance(float(auc_a), float(auc_b), difference)
    sd = math.sqrt(variance)
    z = difference / sd
    p_value = float(2.0 * scipy_stats.norm.sf(abs(z)))
    return DelongTest(
        float(auc_a),
        float(auc_b),
        difference,
        difference - z_level * sd,
        difference + z_level * sd,
        z,
        p_value,
    )


def _delong_without_variance(auc_a: float, auc_b: float, difference: float) -> DelongTest:
    """The test when the difference has no variance, as R's pROC answers it: equal AUCs give Z = 0 and
    p = 1 (nothing tells the scorings apart); different AUCs give Z = +-inf and p = 0, because a
    difference measured without any spread is certain (e.g. a separable score against a constant one)."""
    if abs(difference) <= EQUAL_AUC_TOLERANCE:
        return DelongTest(auc_a, auc_b, difference, difference, difference, 0.0, 1.0)
    return DelongTest(
        auc_a, auc_b, difference, difference, difference, math.copysign(math.inf, difference), 0.0
    )


# --- Decisions at the predicted class --------------------------------------------------------------


def confusion_matrix(*, true_class: np.ndarray, predicted_class: np.ndarray, n_classes: int) -> np.ndarray:
    """Counts with rows = true class and columns = predicted class (the layout of the paper's Fig. 4)."""
    true_class, predicted_class = np.asarray(true_class), np.asarray(predicted_class)
    if true_class.shape != predicted_class.shape or true_class.ndim != 1:
        raise ValueError("true_class and predicted_class must be 1-D arrays of the same length")
    for name, labels in (("true_class", true_class), ("predicted_class", predicted_class)):
        if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
            raise ValueError(f"{name} must hold class indices 0..{n_classes - 1}")
    flat = np.bincount(
        true_class.astype(int) * n_classes + predicted_class.astype(int), minlength=n_classes**2
    )
    return flat.reshape(n_classes, n_classes)


@dataclass(frozen=True)
class ClassDecision:
    """One class against the rest at the model's decision; None where the denominator is empty."""

    sensitivity: Proportion | None
    specificity: Proportion | None
    accuracy: Proportion | None

    def as_dict(self) -> dict:
        return {
            name: (None if value is None else value.as_dict())
            for name, value in (
                ("sensitivity", self.sensitivity),
                ("specificity", self.specificity),
                ("accuracy", self.accuracy),
            )
        }


def class_decision(
    matrix: np.ndarray, class_index: int, *, confidence: float = CONFIDENCE_LEVEL
) -> ClassDecision:
    """Sensitivity, specificity and accuracy of one class against the rest, each with a Wilson interval."""
    matrix = np.asarray(matrix)
    true_positive = int(matrix[class_index, class_index])
    false_negative = int(matrix[class_index].sum()) - true_positive
    false_positive = int(matrix[:, class_index].sum()) - true_positive
    true_negative = int(matrix.sum()) - true_positive - false_negative - false_positive

    def proportion(count: int, total: int) -> Proportion | None:
        return wilson_interval(count, total, confidence=confidence) if total > 0 else None

    return ClassDecision(
        sensitivity=proportion(true_positive, true_positive + false_negative),
        specificity=proportion(true_negative, true_negative + false_positive),
        accuracy=proportion(true_positive + true_negative, int(matrix.sum())),
    )


# --- Table 1: cohort characteristics ---------------------------------------------------------------


@dataclass(frozen=True)
class ContinuousSummary:
    """A continuous variable described as mean +/- SD when it looks normal, else median (IQR).

    Quartiles are numpy's default linear interpolation (R's type 7).
    """

    n: int
    mean: float | None
    sd: float | None
    median: float | None
    q1: float | None
    q3: float | None
    minimum: float | None
    maximum: float | None
    normality_test: str
    normality_p: float | None
    looks_normal: bool

    def text(self, digits: int = 1) -> str:
        if self.n == 0:
            return "-"
        if self.looks_normal:
            return f"{self.mean:.{digits}f} ± {self.sd:.{digits}f}"
        return f"{self.median:.{digits}f} ({self.q1:.{digits}f}, {self.q3:.{digits}f})"

    def as_dict(self) -> dict:
        return {**asdict(self), "text": self.text()}


def normality_p_value(
    values: Sequence[float] | np.ndarray, *, test: str = "kolmogorov-smirnov"
) -> float | None:
    """The p-value of a normality test, or None below 3 values where no test means anything.

    "kolmogorov-smirnov" is the paper's choice: the one-sample KS test of the standardised values against
    N(0, 1). With the mean and SD estimated from the same values it is conservative (it rejects too
    rarely; Lilliefors' correction fixes that); "shapiro-wilk" is the more powerful alternative.
    """
    if test not in NORMALITY_TESTS:
        raise ValueError(f"unknown normality test {test!r}; choose one of {NORMALITY_TESTS}")
    sample = np.asarray(values, dtype=float)
    if sample.size < 3 or np.ptp(sample) == 0:
        return None
    if test == "shapiro-wilk":
        return float(scipy_stats.shapiro(sample).pvalue)
    standardised = (sample - sample.mean()) / sample.std(ddof=1)
    method = "auto" if sample.size <= KS_EXACT_MAX_N else "asymp"
    return float(scipy_stats.kstest(standardised, "norm", method=method).pvalue)


def describe_continuous(values: Sequence[float] | np.ndarray, *, normality_test: str = "kolmogorov-smirnov"):
    """Summarise one variable (age, DLP, dose) for Table 1; missing values (NaN) are left out."""
    observed = np.asarray(values, dtype=float)
    observed = observed[np.isfinite(observed)]
    p_value = normality_p_value(observed, test=normality_test)
    if observed.size == 0:
        return ContinuousSummary(0, None, None, None, None, None, None, None, normality_test, None, False)
    q1, median, q3 = np.percentile(observed, [25, 50, 75])
    return ContinuousSummary(
        n=int(observed.size),
        mean=float(observed.mean()),
        sd=float(observed.std(ddof=1)) if observed.size > 1 else None,
        median=float(median),
        q1=float(q1),
        q3=float(q3),
        minimum=float(observed.min()),
        maximum=float(observed.max()),
        normality_test=normality_test,
        normality_p=p_value,
        looks_normal=p_value is not None and p_value >= NORMALITY_ALPHA,
    )


@dataclass(frozen=True)
class TestResult:
    """A test statistic with its degrees of freedom and p-value."""

    test: str
    statistic: float | None
    dof: float | tuple[float, float] | None
    p_value: float | None

    def as_dict(self) -> dict:
        return {
            "test": self.test,
            "statistic": _plain(self.statistic),
            "dof": self.dof,
            "p_value": _plain(self.p_value),
        }


def one_way_anova(groups: Sequence[Sequence[float] | np.ndarray]) -> TestResult:
    """One-way ANOVA F test that all groups (e.g. the three cohorts' ages) share one mean."""
    finite = [np.asarray(g, dtype=float) for g in groups]
    samples = [s for s in (g[np.isfinite(g)] for g in finite) if s.size]
    n_total = sum(s.size for s in samples)
    if len(samples) < 2 or n_total <= len(samples):
        return TestResult("one-way ANOVA", None, None, None)
    grand_mean = np.concatenate(samples).mean()
    between = sum(s.size * (s.mean() - grand_mean) ** 2 for s in samples)
    within = sum(((s - s.mean()) ** 2).sum() for s in samples)
    df_between, df_within = len(samples) - 1, n_total - len(samples)
    if within == 0:
        return TestResult("one-way ANOVA", None, (df_between, df_within), None)
    f = (between / df_between) / (within / df_within)
    return TestResult(
        "one-way ANOVA", float(f), (df_between, df_within), float(scipy_stats.f.sf(f, df_between, df_within))
    )


def kruskal_wallis(groups: Sequence[Sequence[float] | np.ndarray]) -> TestResult:
    """The rank-based alternative to ANOVA for variables that do not look normal."""
    finite = [np.asarray(g, dtype=float) for g in groups]
    samples = [s for s in (g[np.isfinite(g)] for g in finite) if s.size]
    if len(samples) < 2 or np.ptp(np.concatenate(samples)) == 0:
        return TestResult("Kruskal-Wallis", None, None, None)
    result = scipy_stats.kruskal(*samples)
    return TestResult("Kruskal-Wallis", float(result.statistic), len(samples) - 1, float(result.pvalue))


def chi_square_independence(table: Sequence[Sequence[int]] | np.ndarray) -> TestResult:
    """Pearson's chi-square test of independence of a contingency table (cohort x sex, cohort x class).

    No Yates continuity correction, so 2 x 2 tables give Pearson's plain statistic; empty rows or columns
    are dropped because they carry no information and would divide by zero.
    """
    observed = np.asarray(table, dtype=float)
    if observed.ndim != 2 or (observed < 0).any():
        raise ValueError("a contingency table is a 2-D array of non-negative counts")
    observed = observed[observed.sum(axis=1) > 0][:, observed.sum(axis=0) > 0]
    if min(observed.shape) < 2:
        return TestResult("chi-square", None, None, None)
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0)) / observed.sum()
    statistic = float(((observed - expected) ** 2 / expected).sum())
    dof = (observed.shape[0] - 1) * (observed.shape[1] - 1)
    return TestResult("chi-square", statistic, dof, float(scipy_stats.chi2.sf(statistic, dof)))


def compare_continuous(
    groups: Sequence[Sequence[float] | np.ndarray], *, normality_test: str = "kolmogorov-smirnov"
):
    """ANOVA when every group looks normal (the paper's test for age and dose), else Kruskal-Wallis."""
    summaries = [describe_continuous(g, normality_test=normality_test) for g in groups]
    if all(s.looks_normal for s in summaries if s.n):
        return one_way_anova(groups)
    return kruskal_wallis(groups)
