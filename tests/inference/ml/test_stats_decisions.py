"""Wilson intervals (against statsmodels), ROC curves (against scikit-learn), the confusion matrix and the
per-class sensitivity, specificity and accuracy at the predicted class."""

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix as sklearn_confusion_matrix
from sklearn.metrics import roc_curve as sklearn_roc_curve
from statsmodels.stats.proportion import proportion_confint

from inference.ml import stats


@pytest.mark.parametrize(
    "count,total", [(0, 1), (0, 19), (18, 19), (19, 19), (45, 52), (101, 248), (5000, 9999)]
)
def test_the_wilson_interval_matches_statsmodels(count, total):
    reference_low, reference_high = proportion_confint(count, total, alpha=0.05, method="wilson")
    result = stats.wilson_interval(count, total)
    assert (result.low, result.high) == pytest.approx((reference_low, reference_high), abs=1e-12)
    assert result.estimate == count / total


def test_the_wilson_interval_follows_the_confidence_level():
    reference = proportion_confint(30, 44, alpha=0.10, method="wilson")
    assert (
        stats.wilson_interval(30, 44, confidence=0.90).low,
        stats.wilson_interval(30, 44, confidence=0.90).high,
    ) == pytest.approx(reference, abs=1e-12)


@pytest.mark.parametrize("count,total", [(1, 0), (-1, 4), (5, 4)])
def test_the_wilson_interval_rejects_impossible_counts(count, total):
    with pytest.raises(ValueError):
        stats.wilson_interval(count, total)


def test_it_rejects_a_confidence_outside_zero_and_one():
    with pytest.raises(ValueError, match="confidence"):
        stats.wilson_interval(3, 10, confidence=95)


def test_the_roc_curve_matches_scikit_learn_including_ties():
    rng = np.random.default_rng(3)
    positive = rng.random(200) < 0.4
    scores = np.round(rng.normal(size=200) + positive, 1)
    fpr, tpr, thresholds = sklearn_roc_curve(positive, scores, drop_intermediate=False)
    curve = stats.roc_curve(positive=positive, scores=scores)
    np.testing.assert_allclose(curve.false_positive_rate, fpr)
    np.testing.assert_allclose(curve.true_positive_rate, tpr)
    np.testing.assert_allclose(curve.thresholds[1:], thresholds[1:])


def test_the_roc_curve_area_equals_the_delong_auc():
    rng = np.random.default_rng(4)
    positive = rng.random(150) < 0.3
    scores = rng.integers(0, 10, 150) + 3 * positive
    curve = stats.roc_curve(positive=positive, scores=scores)
    area = np.trapezoid(curve.true_positive_rate, curve.false_positive_rate)
    assert area == pytest.approx(stats.auc_with_confidence_interval(positive=positive, scores=scores).auc)


def test_a_thinned_curve_keeps_both_ends_and_at_most_the_asked_points():
    rng = np.random.default_rng(5)
    positive = rng.random(5000) < 0.5
    curve = stats.roc_curve(positive=positive, scores=rng.random(5000)).thinned(100)
    assert len(curve.thresholds) <= 100
    assert (curve.false_positive_rate[0], curve.true_positive_rate[0]) == (0.0, 0.0)
    assert (curve.false_positive_rate[-1], curve.true_positive_rate[-1]) == (1.0, 1.0)
    assert np.all(np.diff(curve.false_positive_rate) >= 0)


def test_the_curve_serialises_without_infinities():
    curve = stats.roc_curve(positive=np.array([1, 0, 1, 0]), scores=np.array([0.9, 0.1, 0.5, 0.6]))
    data = curve.as_dict()
    assert data["thresholds"][0] is None
    assert data["fpr"][0] == 0.0 and data["tpr"][-1] == 1.0


def test_it_rejects_an_roc_curve_without_negatives():
    with pytest.raises(ValueError, match="negative"):
        stats.roc_curve(positive=np.ones(4, dtype=bool), scores=np.arange(4.0))


def test_the_confusion_matrix_matches_scikit_learn():
    rng = np.random.default_rng(6)
    truth, predicted = rng.integers(0, 3, 500), rng.integers(0, 3, 500)
    matrix = stats.confusion_matrix(true_class=truth, predicted_class=predicted, n_classes=3)
    np.testing.assert_array_equal(matrix, sklearn_confusion_matrix(truth, predicted, labels=[0, 1, 2]))


def test_the_confusion_matrix_rejects_a_class_out_of_range():
    with pytest.raises(ValueError, match="class indices"):
        stats.confusion_matrix(true_class=np.array([0, 3]), predicted_class=np.array([0, 1]), n_classes=3)


def test_class_decisions_count_one_class_against_the_rest():
    # Rows = truth, columns = prediction. For osteopenia (index 1): TP 30, FN 4 + 6, FP 5 + 2, TN the rest.
    matrix = np.array([[40, 5, 0], [4, 30, 6], [1, 2, 12]])
    decision = stats.class_decision(matrix, 1)
    assert decision.sensitivity and decision.specificity and decision.accuracy  # every class is present
    assert (decision.sensitivity.count, decision.sensitivity.total) == (30, 40)
    assert (decision.specificity.count, decision.specificity.total) == (40 + 0 + 1 + 12, 60)
    assert (decision.accuracy.count, decision.accuracy.total) == (30 + 53, 100)
    low, high = proportion_confint(30, 40, method="wilson")
    assert (decision.sensitivity.low, decision.sensitivity.high) == pytest.approx((low, high))


def test_class_decisions_leave_sensitivity_undefined_when_the_class_is_absent():
    matrix = np.array([[10, 2, 0], [3, 9, 0], [0, 0, 0]])
    decision = stats.class_decision(matrix, 2)
    assert decision.sensitivity is None
    assert decision.specificity is not None and decision.specificity.estimate == 1.0
    assert decision.as_dict()["sensitivity"] is None
