"""The dashboard payload: per split and class, built from arrays, consistent with the statistics module."""

import json

import numpy as np
import pytest

from inference.ml import evaluation, stats


def _cohort(n=300, seed=0):
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 3, n)
    logits = rng.normal(size=(n, 3)) + 2.0 * np.eye(3)[truth]
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    split = rng.choice(evaluation.SPLITS, n, p=[0.55, 0.23, 0.22])
    return truth, probabilities, split


def test_the_payload_has_every_split_and_class_in_the_papers_order():
    truth, probabilities, split = _cohort()
    payload = evaluation.dashboard_payload(true_class=truth, probabilities=probabilities, split=split)
    assert [s["split"] for s in payload["splits"]] == ["training", "validation", "test"]
    for entry in payload["splits"]:
        assert [c["class"] for c in entry["classes"]] == ["normal", "osteopenia", "osteoporosis"]
        assert entry["n"] == int((split == entry["split"]).sum())
        assert np.sum(entry["confusion_matrix"]) == entry["n"]


def test_the_payload_is_plain_json():
    truth, probabilities, split = _cohort()
    payload = evaluation.dashboard_payload(true_class=truth, probabilities=probabilities, split=split)
    assert json.loads(json.dumps(payload, allow_nan=False)) == payload


def test_each_class_agrees_with_the_statistics_module():
    truth, probabilities, split = _cohort(seed=1)
    payload = evaluation.dashboard_payload(true_class=truth, probabilities=probabilities, split=split)
    test_split = payload["splits"][2]
    in_test = split == "test"
    osteopenia = test_split["classes"][1]
    expected_auc = stats.auc_with_confidence_interval(
        positive=truth[in_test] == 1, scores=probabilities[in_test, 1]
    )
    assert osteopenia["auc"]["auc"] == pytest.approx(expected_auc.auc)
    assert osteopenia["auc"]["low"] == pytest.approx(expected_auc.low)
    predicted = probabilities[in_test].argmax(axis=1)
    true_positive = int(((truth[in_test] == 1) & (predicted == 1)).sum())
    assert osteopenia["sensitivity"]["count"] == true_positive
    assert osteopenia["sensitivity"]["total"] == int((truth[in_test] == 1).sum())


def test_the_drawn_roc_is_thinned_but_the_auc_uses_every_case():
    truth, probabilities, split = _cohort(n=3000, seed=2)
    payload = evaluation.dashboard_payload(
        true_class=truth, probabilities=probabilities, split=split, max_roc_points=50
    )
    normal = payload["splits"][0]["classes"][0]
    assert len(normal["roc"]["fpr"]) <= 50
    in_training = split == "training"
    full = stats.auc_with_confidence_interval(
        positive=truth[in_training] == 0, scores=probabilities[in_training, 0]
    )
    assert normal["auc"]["auc"] == pytest.approx(full.auc)


def test_a_split_without_a_class_reports_no_auc_for_it():
    truth = np.array([0, 0, 1, 1, 0, 1, 2, 2])
    probabilities = np.eye(3)[[0, 1, 1, 1, 0, 0, 2, 2]] * 0.8 + 0.1
    split = np.array(["training"] * 6 + ["test"] * 2)
    payload = evaluation.dashboard_payload(true_class=truth, probabilities=probabilities, split=split)
    osteoporosis_in_training = payload["splits"][0]["classes"][2]
    assert osteoporosis_in_training["auc"] is None and osteoporosis_in_training["roc"] is None
    assert osteoporosis_in_training["sensitivity"] is None
    assert payload["splits"][1]["n"] == 0


def test_it_rejects_probabilities_with_the_wrong_number_of_classes():
    with pytest.raises(ValueError, match="probabilities"):
        evaluation.dashboard_payload(
            true_class=np.zeros(4, int), probabilities=np.ones((4, 2)), split=["test"] * 4
        )


def test_it_rejects_a_true_class_out_of_range():
    with pytest.raises(ValueError, match="class indices"):
        evaluation.dashboard_payload(
            true_class=np.array([0, 3]), probabilities=np.ones((2, 3)), split=["test"] * 2
        )


def test_table3_rows_flatten_the_payload():
    truth, probabilities, split = _cohort(seed=3)
    payload = evaluation.dashboard_payload(true_class=truth, probabilities=probabilities, split=split)
    rows = evaluation.table3_rows(payload)
    assert len(rows) == 9
    assert rows[4]["split"] == "validation" and rows[4]["class"] == "osteopenia"
    assert rows[4]["auc"] == payload["splits"][1]["classes"][1]["auc"]["auc"]
    assert rows[4]["accuracy_low"] == payload["splits"][1]["classes"][1]["accuracy"]["low"]


def test_version_comparison_runs_delong_per_split_and_class():
    truth, probabilities, split = _cohort(seed=4)
    noisy = probabilities + np.random.default_rng(9).normal(0, 0.2, probabilities.shape)
    comparison = evaluation.version_comparison_payload(
        true_class=truth, probabilities_a=probabilities, probabilities_b=noisy, split=split
    )
    test = comparison["splits"][2]["classes"][0]["test"]
    in_test = split == "test"
    expected = stats.delong_test(
        positive=truth[in_test] == 0, scores_a=probabilities[in_test, 0], scores_b=noisy[in_test, 0]
    )
    assert test["p_value"] == pytest.approx(expected.p_value)
    assert test["auc_a"] == pytest.approx(expected.auc_a)


def test_table1_rows_describe_each_cohort_with_a_p_value():
    rng = np.random.default_rng(5)
    cohort = np.array(["training"] * 248 + ["validation"] * 107 + ["test"] * 101)
    ages = rng.normal(67.8, 8.2, cohort.size)
    sex = rng.choice(["M", "F"], cohort.size)
    age_row = evaluation.table1_continuous_row(name="age", values=ages, cohort=cohort)
    assert age_row["cohorts"]["validation"]["n"] == 107
    assert age_row["test"]["test"] == "one-way ANOVA" and 0 <= age_row["test"]["p_value"] <= 1
    sex_row = evaluation.table1_categorical_row(name="sex", values=sex, cohort=cohort, categories=["M", "F"])
    males = int(((cohort == "test") & (sex == "M")).sum())
    assert sex_row["cohorts"]["test"]["M"]["n"] == males
    assert sex_row["all"]["M"]["n"] + sex_row["all"]["F"]["n"] == cohort.size
    assert sex_row["test"]["dof"] == 2


def test_table2_rows_give_all_then_each_class_per_cohort():
    rng = np.random.default_rng(6)
    cohort = rng.choice(["validation", "test"], 120)
    truth = rng.integers(0, 3, 120)
    rows = evaluation.table2_rows(
        dice=rng.uniform(0.9, 1, 120),
        volume_difference_cm3=rng.normal(0.05, 0.03, 120),
        cohort=cohort,
        true_class=truth,
        cohort_names=("validation", "test"),
    )
    assert [(r["cohort"], r["group"]) for r in rows[:4]] == [
        ("validation", "all"),
        ("validation", "normal"),
        ("validation", "osteopenia"),
        ("validation", "osteoporosis"),
    ]
    assert rows[0]["n"] == int((cohort == "validation").sum())
    assert rows[0]["n"] == sum(r["n"] for r in rows[1:4])
