"""The evaluation dashboard's numbers, built from arrays in one pass.

Per split (training, validation, test) and per class (normal, osteopenia, osteoporosis, one against the
rest): the ROC curve, the AUC with its DeLong 95% CI, sensitivity, specificity and accuracy at the predicted
class with Wilson 95% CIs, and the 3 x 3 confusion matrix; plus version-vs-version DeLong tests and the
paper's Tables 1 and 2 from per-case values. Imports no Django; the dashboard's selectors feed it arrays.

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> truth = rng.integers(0, 3, 60)
    >>> probabilities = rng.dirichlet(np.ones(3), 60)
    >>> payload = dashboard_payload(true_class=truth, probabilities=probabilities,
    ...                             split=np.array(["training", "validation", "test"] * 20))
    >>> [s["split"] for s in payload["splits"]]
    ['training', 'validation', 'test']
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from inference.ml import stats
from voi.metrics import table2_summary

# The study's classes by QCT T-score (ISCD/ACR), in the order of the model's probability columns.
BONE_CLASSES = ("normal", "osteopenia", "osteoporosis")
# The frozen split's subsets, in the order the paper reports them.
SPLITS = ("training", "validation", "test")
# What a version's training-subset probabilities are: out-of-bag (a forest's trees that did not draw the
# case) or apparent (in-sample, from a model that saw the case). Table 3's training row says which.
TRAINING_OUT_OF_BAG = "out-of-bag"
TRAINING_APPARENT = "apparent"
# Points per drawn ROC curve: more than a 500-pixel chart can show, few enough to keep the payload small.
DEFAULT_MAX_ROC_POINTS = 500


def _check_predictions(true_class, probabilities, split, class_names) -> tuple[np.ndarray, ...]:
    true_class = np.asarray(true_class)
    probabilities = np.asarray(probabilities, dtype=float)
    split = np.asarray(split)
    n_classes = len(class_names)
    if probabilities.ndim != 2 or probabilities.shape[1] != n_classes:
        raise ValueError(f"probabilities must be (n_cases, {n_classes}), got {probabilities.shape}")
    if true_class.shape != (probabilities.shape[0],) or split.shape != true_class.shape:
        raise ValueError("true_class, probabilities and split must describe the same cases")
    if not np.isfinite(probabilities).all():
        raise ValueError("probabilities must be finite numbers")
    if true_class.size and (true_class.min() < 0 or true_class.max() >= n_classes):
        raise ValueError(f"true_class must hold class indices 0..{n_classes - 1}")
    return true_class.astype(int), probabilities, split


def class_payload(
    *,
    class_index: int,
    class_name: str,
    true_class: np.ndarray,
    probabilities: np.ndarray,
    matrix: np.ndarray,
    max_roc_points: int,
) -> dict:
    """One class against the rest: ROC, AUC with CI and the decision metrics with CIs."""
    positive = true_class == class_index
    n_positive, n_negative = int(positive.sum()), int((~positive).sum())
    scores = probabilities[:, class_index]
    roc = auc = None
    if n_positive and n_negative:
        roc = stats.roc_curve(positive=positive, scores=scores).thinned(max_roc_points).as_dict()
    if n_positive >= 2 and n_negative >= 2:
        auc = stats.auc_with_confidence_interval(positive=positive, scores=scores).as_dict()
    return {
        "class": class_name,
        "n_positive": n_positive,
        "n_negative": n_negative,
        "auc": auc,
        "roc": roc,
        **stats.class_decision(matrix, class_index).as_dict(),
    }


def split_payload(
    *,
    split_name: str,
    true_class: np.ndarray,
    probabilities: np.ndarray,
    class_names: Sequence[str],
    max_roc_points: int,
) -> dict:
    """Everything the dashboard shows for one split."""
    predicted = probabilities.argmax(axis=1) if len(true_class) else np.zeros(0, dtype=int)
    matrix = stats.confusion_matrix(
        true_class=true_class, predicted_class=predicted, n_classes=len(class_names)
    )
    return {
        "split": split_name,
        "n": int(len(true_class)),
        "confusion_matrix": matrix.tolist(),
        "classes": [
            class_payload(
                class_index=k,
                class_name=name,
                true_class=true_class,
                probabilities=probabilities,
                matrix=matrix,
                max_roc_points=max_roc_points,
            )
            for k, name in enumerate(class_names)
        ],
    }


def dashboard_payload(
    *,
    true_class,
    probabilities,
    split,
    class_names: Sequence[str] = BONE_CLASSES,
    split_names: Sequence[str] = SPLITS,
    max_roc_points: int = DEFAULT_MAX_ROC_POINTS,
) -> dict:
    """The whole classification dashboard (Table 3, Figs. 4 and 5) from per-case arrays.

    Args:
        true_class: (n,) class index per case, 0..len(class_names)-1 (the QCT bone status).
        probabilities: (n, len(class_names)) predicted probability per class; the decision is the argmax.
        split: (n,) split name per case; cases in no listed split are ignored.
        max_roc_points: the drawn ROC curves are thinned to this many points; AUCs use every case.
    """
    true_class, probabilities, split = _check_predictions(true_class, probabilities, split, class_names)
    return {
        "classes": list(class_names),
        "confidence_level": stats.CONFIDENCE_LEVEL,
        "splits": [
            split_payload(
                split_name=name,
                true_class=true_class[split == name],
                probabilities=probabilities[split == name],
                class_names=class_names,
                max_roc_points=max_roc_points,
            )
            for name in split_names
        ],
    }


def table3_rows(payload: dict) -> list[dict]:
    """The paper's Table 3 flattened from a dashboard payload: one row per split and class."""
    rows = []
    for split in payload["splits"]:
        for entry in split["classes"]:
            row = {"split": split["split"], "class": entry["class"], "n_positive": entry["n_positive"]}
            for metric in ("auc", "sensitivity", "specificity", "accuracy"):
                value = entry[metric]
                estimate_key = "auc" if metric == "auc" else "estimate"
                row[metric] = None if value is None else value[estimate_key]
                row[f"{metric}_low"] = None if value is None else value["low"]
                row[f"{metric}_high"] = None if value is None else value["high"]
            rows.append(row)
    return rows


def version_comparison_payload(
    *,
    true_class,
    probabilities_a,
    probabilities_b,
    split,
    class_names: Sequence[str] = BONE_CLASSES,
    split_names: Sequence[str] = SPLITS,
) -> dict:
    """Two model versions on the same cases: per split and class, both AUCs and DeLong's paired test."""
    true_class, probabilities_a, split = _check_predictions(true_class, probabilities_a, split, class_names)
    _, probabilities_b, _ = _check_predictions(true_class, probabilities_b, split, class_names)
    splits = []
    for name in split_names:
        in_split = split == name
        rows = []
        for k, class_name in enumerate(class_names):
            positive = true_class[in_split] == k
            test = None
            if 2 <= positive.sum() <= positive.size - 2:
                test = stats.delong_test(
                    positive=positive,
                    scores_a=probabilities_a[in_split, k],
                    scores_b=probabilities_b[in_split, k],
                ).as_dict()
            rows.append({"class": class_name, "n_positive": int(positive.sum()), "test": test})
        splits.append({"split": name, "n": int(in_split.sum()), "classes": rows})
    return {"classes": list(class_names), "splits": splits}


def table1_continuous_row(
    *,
    name: str,
    values,
    cohort,
    cohort_names: Sequence[str] = SPLITS,
    normality_test: str = "kolmogorov-smirnov",
) -> dict:
    """One continuous row of Table 1 (age, DLP, effective dose): per cohort, overall and the p-value."""
    values, cohort = np.asarray(values, dtype=float), np.asarray(cohort)
    groups = [values[cohort == c] for c in cohort_names]
    return {
        "variable": name,
        "cohorts": {
            c: stats.describe_continuous(g, normality_test=normality_test).as_dict()
            for c, g in zip(cohort_names, groups, strict=True)
        },
        "all": stats.describe_continuous(
            values[np.isin(cohort, cohort_names)], normality_test=normality_test
        ).as_dict(),
        "test": stats.compare_continuous(groups, normality_test=normality_test).as_dict(),
    }


def table1_categorical_row(
    *, name: str, values, cohort, categories: Sequence[str], cohort_names: Sequence[str] = SPLITS
) -> dict:
    """One categorical row of Table 1 (sex, bone status): counts and percentages with chi-square p."""
    values, cohort = np.asarray(values), np.asarray(cohort)
    table = np.array([[int(((cohort == c) & (values == v)).sum()) for v in categories] for c in cohort_names])

    def counts(row: np.ndarray) -> dict:
        total = int(row.sum())
        return {
            v: {"n": int(n), "percent": (100.0 * n / total) if total else None}
            for v, n in zip(categories, row, strict=True)
        }

    return {
        "variable": name,
        "categories": list(categories),
        "cohorts": {c: counts(row) for c, row in zip(cohort_names, table, strict=True)},
        "all": counts(table.sum(axis=0)),
        "test": stats.chi_square_independence(table).as_dict(),
    }


def table2_rows(
    *,
    dice,
    volume_difference_cm3,
    cohort,
    true_class,
    cohort_names: Sequence[str] = SPLITS,
    class_names: Sequence[str] = BONE_CLASSES,
) -> list[dict]:
    """The paper's Table 2: per cohort, all cases then each class, Dice mean +/- SD and VD median (IQR)."""
    dice = np.asarray(dice, dtype=float)
    volume_difference = np.asarray(volume_difference_cm3, dtype=float)
    cohort, true_class = np.asarray(cohort), np.asarray(true_class)
    rows = []
    for c in cohort_names:
        groups = [("all", cohort == c)] + [
            (name, (cohort == c) & (true_class == k)) for k, name in enumerate(class_names)
        ]
        for group, mask in groups:
            summary = table2_summary(dice=dice[mask], volume_difference_cm3=volume_difference[mask])
            rows.append({"cohort": c, "group": group, **summary.as_dict()})
    return rows
