"""DeLong AUC intervals and the paired DeLong test, checked against R's pROC on its documented example.

Reference data: the `aSAH` data set shipped with pROC (Robin X, Turck N, Hainard A, et al. "pROC: an
open-source package for R and S+ to analyze and compare ROC curves", BMC Bioinformatics 2011;12:77),
113 patients after aneurysmal subarachnoid haemorrhage from Turck N, et al., Intensive Care Med
2010;36:107-115. Columns copied below: outcome (1 = "Poor", the cases; 0 = "Good", the controls),
s100b (ug/L) and wfns (WFNS grade 1-5), in pROC's row order.

Reference values, as documented by pROC (README "Area under the curve: 0.7314, 95% CI: 0.6301-0.8326
(DeLong)" for s100b; ?roc.test example "Z = 2.209, p-value = 0.02718" for wfns vs s100b), and re-run to
more digits with pROC 1.18.0 (Debian r-cran-proc 1.18.0) for this test:
    roc(outcome, s100b): AUC 0.7313686, ci.auc 0.6301182-0.8326189, var 0.002668682457
    roc(outcome, wfns):  AUC 0.8236789, ci.auc 0.7485349-0.8988228
    roc.test(wfns, s100b, method="delong"): Z 2.208983591, p 0.02717578223, 95% CI of the difference
    0.01040618-0.17421442
"""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from inference.ml import stats

# fmt: off
ASAH_POOR_OUTCOME = np.array([
    0,0,0,0,1,1,0,1,0,0,1,0,1,1,0,0,1,0,1,1,1,0,1,0,0,0,0,0,0,0,0,0,1,0,0,1,1,0,1,1,0,0,0,0,0,0,0,0,0,1,
    1,0,0,0,1,0,0,0,1,0,1,0,0,1,1,1,0,1,1,0,1,1,1,1,0,0,0,1,1,0,1,0,0,0,0,0,0,1,0,0,0,0,0,0,0,0,0,0,0,0,
    1,1,1,1,1,1,0,0,0,1,0,0,0,
], dtype=bool)
ASAH_S100B = np.array([
    0.13,0.14,0.10,0.04,0.13,0.10,0.47,0.16,0.18,0.10,0.12,0.10,0.44,0.71,0.04,0.08,0.49,0.04,0.07,0.33,
    0.09,0.09,0.07,0.11,0.07,0.17,0.07,0.11,0.13,0.19,0.05,0.16,0.41,0.14,0.34,0.35,0.48,0.09,0.96,0.25,
    0.50,0.46,0.16,0.07,0.43,0.45,0.11,0.08,0.09,0.86,0.52,0.08,0.06,0.13,2.07,0.10,0.14,0.15,0.07,0.06,
    0.77,0.05,0.09,0.30,0.03,0.09,0.04,0.23,0.70,0.09,0.27,0.71,0.08,0.26,0.08,0.16,0.09,0.13,0.10,0.08,
    0.11,0.33,0.11,0.28,0.07,0.10,0.32,0.22,0.07,0.05,0.24,0.38,0.10,0.15,0.08,0.14,0.10,0.07,0.04,0.19,
    0.56,0.14,0.58,0.32,0.82,0.74,0.15,0.47,0.17,0.44,0.15,0.50,0.48,
])
ASAH_WFNS = np.array([
    1,1,1,1,3,2,5,4,1,2,5,2,5,5,1,2,5,2,2,5,2,1,1,1,1,2,1,2,1,1,3,4,2,1,4,5,4,1,4,2,5,5,1,1,2,4,1,1,2,5,
    5,2,1,2,5,1,2,2,2,1,5,1,1,2,5,2,1,4,5,2,4,4,1,4,1,2,1,4,2,1,2,3,2,4,2,1,4,5,1,1,5,4,2,2,1,1,1,3,1,2,
    5,2,2,5,5,5,2,4,4,5,1,1,1,
], dtype=float)
# fmt: on


def test_the_asah_copy_has_pROCs_shape():
    assert ASAH_POOR_OUTCOME.shape == ASAH_S100B.shape == ASAH_WFNS.shape == (113,)
    assert ASAH_POOR_OUTCOME.sum() == 41  # table(aSAH$outcome): Good 72, Poor 41


def test_it_reproduces_pROCs_s100b_auc_and_delong_interval():
    estimate = stats.auc_with_confidence_interval(positive=ASAH_POOR_OUTCOME, scores=ASAH_S100B)
    assert estimate.auc == pytest.approx(0.7313686, abs=5e-8)
    assert estimate.low == pytest.approx(0.6301182, abs=5e-8)
    assert estimate.high == pytest.approx(0.8326189, abs=5e-8)
    assert estimate.variance == pytest.approx(0.002668682457, rel=1e-9)
    assert (estimate.n_positive, estimate.n_negative) == (41, 72)


def test_it_reproduces_pROCs_wfns_auc_and_interval_despite_heavy_ties():
    estimate = stats.auc_with_confidence_interval(positive=ASAH_POOR_OUTCOME, scores=ASAH_WFNS)
    assert estimate.auc == pytest.approx(0.8236789, abs=5e-8)
    assert (estimate.low, estimate.high) == pytest.approx((0.7485349, 0.8988228), abs=5e-8)


def test_it_reproduces_pROCs_roc_test_of_wfns_against_s100b():
    result = stats.delong_test(positive=ASAH_POOR_OUTCOME, scores_a=ASAH_WFNS, scores_b=ASAH_S100B)
    assert result.z == pytest.approx(2.208983591, rel=1e-8)
    assert result.p_value == pytest.approx(0.02717578223, rel=1e-8)
    assert (result.difference_low, result.difference_high) == pytest.approx(
        (0.01040618, 0.17421442), abs=5e-8
    )
    assert result.difference == pytest.approx(result.auc_a - result.auc_b)


def test_swapping_the_two_scorings_flips_the_sign_but_not_the_p_value():
    forward = stats.delong_test(positive=ASAH_POOR_OUTCOME, scores_a=ASAH_WFNS, scores_b=ASAH_S100B)
    backward = stats.delong_test(positive=ASAH_POOR_OUTCOME, scores_a=ASAH_S100B, scores_b=ASAH_WFNS)
    assert forward.z is not None and backward.z == pytest.approx(-forward.z)
    assert backward.p_value == pytest.approx(forward.p_value)


def _slow_delong(positive, scores):
    """DeLong 1988 straight from its definition: the O(m n) Mann-Whitney kernel psi(X, Y)."""
    cases, controls = scores[:, positive], scores[:, ~positive]
    kernel = (cases[:, :, None] > controls[:, None, :]) + 0.5 * (cases[:, :, None] == controls[:, None, :])
    v10, v01 = kernel.mean(axis=2), kernel.mean(axis=1)
    covariance = np.atleast_2d(np.cov(v10)) / cases.shape[1] + np.atleast_2d(np.cov(v01)) / controls.shape[1]
    return kernel.mean(axis=(1, 2)), covariance


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_fast_algorithm_matches_the_pairwise_definition_with_ties(seed):
    rng = np.random.default_rng(seed)
    positive = rng.random(80) < 0.35
    scores = np.round(rng.normal(size=(3, 80)) + positive * rng.uniform(0, 2, size=(3, 1)), 1)
    fast = stats.delong_components(positive=positive, scores=scores)
    aucs, covariance = _slow_delong(positive, scores)
    np.testing.assert_allclose(fast.aucs, aucs, rtol=1e-12)
    np.testing.assert_allclose(fast.covariance, covariance, rtol=1e-10, atol=1e-15)


def test_the_auc_agrees_with_scikit_learn():
    rng = np.random.default_rng(7)
    positive = rng.random(300) < 0.2
    scores = rng.normal(size=300) + positive
    estimate = stats.auc_with_confidence_interval(positive=positive, scores=scores)
    assert estimate.auc == pytest.approx(roc_auc_score(positive, scores), rel=1e-12)


def test_a_perfect_scoring_has_an_interval_clipped_at_one():
    positive = np.array([0, 0, 0, 1, 1, 1], dtype=bool)
    estimate = stats.auc_with_confidence_interval(positive=positive, scores=np.arange(6.0))
    assert estimate.auc == 1.0
    assert estimate.high == 1.0 and estimate.low <= 1.0


def test_identical_scorings_are_not_significantly_different():
    result = stats.delong_test(positive=ASAH_POOR_OUTCOME, scores_a=ASAH_S100B, scores_b=ASAH_S100B * 3)
    assert result.difference == 0.0
    assert result.p_value == 1.0 and result.z == 0.0


def test_a_separable_score_against_a_constant_one_differs_with_certainty_as_in_proc():
    """Both scorings have zero DeLong variance (every placement is 1 or 1/2), so the difference (0.5) has
    none either. pROC answers Z = Inf, p = 0; the old code answered p = 1 for any zero variance."""
    positive = np.array([0, 0, 0, 1, 1, 1], dtype=bool)
    separable, constant = np.arange(6.0), np.full(6, 0.5)
    result = stats.delong_test(positive=positive, scores_a=separable, scores_b=constant)
    assert result.difference == 0.5
    assert result.z == np.inf and result.p_value == 0.0
    backward = stats.delong_test(positive=positive, scores_a=constant, scores_b=separable)
    assert backward.z == -np.inf and backward.p_value == 0.0
    assert backward.as_dict()["z"] is None and backward.as_dict()["p_value"] == 0.0


def test_it_rejects_a_single_positive_case_for_a_variance():
    with pytest.raises(ValueError, match="at least 2 positive"):
        stats.auc_with_confidence_interval(positive=np.array([1, 0, 0, 0]), scores=np.arange(4.0))


def test_it_rejects_scores_that_are_not_finite():
    with pytest.raises(ValueError, match="finite"):
        stats.auc_with_confidence_interval(
            positive=np.array([1, 1, 0, 0]), scores=np.array([0.1, np.nan, 0, 1])
        )


def test_it_rejects_scores_for_other_cases():
    with pytest.raises(ValueError, match="same cases"):
        stats.auc_with_confidence_interval(positive=np.array([1, 1, 0, 0]), scores=np.arange(5.0))
