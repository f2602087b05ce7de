"""The bone-status classifier: counts, signal versus chance, seeds, saving, the baseline."""

import dataclasses

import numpy as np
import pytest

from inference.ml.classifier import (
    BASELINE_FEATURE,
    CONFIG_PATH,
    BoneStatusModel,
    ClassifierConfig,
    ForestConfig,
    LassoConfig,
    MRMRConfig,
    RFEConfig,
    case_feature_row,
    class_aucs,
    fit_baseline_model,
    fit_radiomics_model,
    load_config,
    probability_aucs,
)

CLASSES = ("normal", "osteopenia", "osteoporosis")


def small_config(seed=7):
    """The paper's pipeline with counts and forest sized for a test."""
    return ClassifierConfig(
        seed=seed,
        rfe=RFEConfig(n_features=12, step=0.2),
        mrmr=MRMRConfig(n_features=6),
        lasso=LassoConfig(max_features=4, C_steps=21),
        forest=ForestConfig(n_estimators=60),
    )


def planted_cohort(*, n=300, features=40, seed=0):
    """Feature rows where three features move with an ordinal bone status; the rest is noise."""
    rng = np.random.default_rng(seed)
    status = rng.integers(0, 3, n)
    X = rng.normal(size=(n, features))
    X[:, 0] += 1.5 * status
    X[:, 1] -= 1.2 * status
    X[:, 2] += 2.0 * (status == 2)
    names = [f"wavelet-LLH_glcm_F{i}" for i in range(features)]
    rows = [dict(zip(names, row, strict=True)) for row in X]
    return rows, [CLASSES[s] for s in status]


def test_the_pipeline_keeps_the_configured_counts():
    rows, labels = planted_cohort()
    config = small_config()
    kept = fit_radiomics_model(rows, labels, config=config).selected_features()
    assert len(kept["rfe"]) == config.rfe.n_features
    assert len(kept["mrmr"]) == config.mrmr.n_features
    assert 1 <= len(kept["lasso"]) <= config.lasso.max_features
    assert set(kept["lasso"]) <= set(kept["mrmr"]) <= set(kept["rfe"])


def test_a_planted_signal_gets_a_high_auc_and_shuffled_labels_do_not():
    rows, labels = planted_cohort()
    train, test = slice(0, 200), slice(200, None)
    model = fit_radiomics_model(rows[train], labels[train], config=small_config())
    assert min(class_aucs(model, rows[test], labels[test]).values()) > 0.85

    shuffled = list(np.random.default_rng(1).permutation(labels))
    chance = fit_radiomics_model(rows[train], shuffled[train], config=small_config())
    assert np.mean(list(class_aucs(chance, rows[test], shuffled[test]).values())) < 0.65


def test_the_same_seed_gives_the_same_model():
    rows, labels = planted_cohort(n=180)
    first = fit_radiomics_model(rows, labels, config=small_config(seed=3))
    second = fit_radiomics_model(rows, labels, config=small_config(seed=3))
    assert first.selected_features() == second.selected_features()
    assert np.array_equal(first.predict_proba(rows), second.predict_proba(rows))


def test_the_lasso_coefficients_name_the_kept_features_per_class():
    rows, labels = planted_cohort()
    model = fit_radiomics_model(rows, labels, config=small_config())
    figure = model.lasso_coefficients()
    assert {row["feature"] for row in figure} == set(model.selected_features()["lasso"])
    assert all(set(row["coefficients"]) == set(CLASSES) for row in figure)
    strongest = [max(abs(v) for v in row["coefficients"].values()) for row in figure]
    assert strongest == sorted(strongest, reverse=True)


def test_a_saved_model_loads_with_its_config_names_and_versions(tmp_path):
    rows, labels = planted_cohort(n=150)
    model = fit_radiomics_model(rows, labels, config=small_config(), settings_hash="abc123")
    loaded = BoneStatusModel.load(model.save(tmp_path / "model.joblib"))
    assert loaded.config == model.config
    assert loaded.feature_names == model.feature_names
    assert loaded.versions == model.versions and "scikit-learn" in loaded.versions
    assert loaded.settings_hash == "abc123"
    assert np.array_equal(loaded.predict_proba(rows), model.predict_proba(rows))


def test_it_refuses_to_load_a_file_that_is_not_a_model(tmp_path):
    path = tmp_path / "model.joblib"
    path.write_bytes(b"not a model")
    with pytest.raises(ValueError, match="not a"):
        BoneStatusModel.load(path)


def test_probabilities_of_one_case_sum_to_one_over_the_three_classes():
    rows, labels = planted_cohort(n=150)
    model = fit_radiomics_model(rows, labels, config=small_config())
    probabilities = model.probabilities(rows[0])
    assert list(probabilities) == list(CLASSES)
    assert sum(probabilities.values()) == pytest.approx(1.0)
    assert model.predict(rows[:1])[0] == max(probabilities, key=lambda name: probabilities[name])


def test_it_rejects_a_case_lacking_a_feature():
    rows, labels = planted_cohort(n=150)
    model = fit_radiomics_model(rows, labels, config=small_config())
    partial = dict(rows[0])
    partial.pop(model.feature_names[0])
    with pytest.raises(ValueError, match="lacks"):
        model.predict_proba([partial])


def test_it_rejects_training_labels_without_every_class():
    rows, labels = planted_cohort(n=60)
    two_classes = ["normal" if label == "osteoporosis" else label for label in labels]
    with pytest.raises(ValueError, match="lack the class"):
        fit_radiomics_model(rows, two_classes, config=small_config())
    with pytest.raises(ValueError, match="unknown bone status"):
        fit_radiomics_model(rows, ["fragile"] * len(rows), config=small_config())


def test_the_repository_config_holds_the_paper_counts():
    config = load_config(CONFIG_PATH)
    assert (config.rfe.n_features, config.mrmr.n_features, config.lasso.max_features) == (50, 20, 15)
    assert config.classes == CLASSES


@pytest.mark.parametrize(
    "text, message",
    [
        ("rfe: {n_features: 10}\nmrmr: {n_features: 20}\n", "shrink"),
        ("forrest: {n_estimators: 5}\n", "unknown"),
        ("rfe: {n_feature: 10}\n", "bad classifier config"),
        ("- 1\n- 2\n", "mapping"),
    ],
)
def test_it_rejects_a_bad_config_file(tmp_path, text, message):
    path = tmp_path / "config.yaml"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        load_config(path)


def test_the_baseline_reads_the_mean_trabecular_hu():
    rng = np.random.default_rng(2)
    status = rng.integers(0, 3, 240)
    hu = 220 - 60 * status + rng.normal(0, 20, status.size)
    labels = [CLASSES[s] for s in status]
    model = fit_baseline_model(hu[:160], labels[:160], config=small_config())
    assert model.feature_names == (BASELINE_FEATURE,)
    aucs = class_aucs(model, [{BASELINE_FEATURE: v} for v in hu[160:]], labels[160:])
    assert aucs["normal"] > 0.85 and aucs["osteoporosis"] > 0.85
    assert model.selected_features() == {} and model.lasso_coefficients() == []


def test_a_case_row_prefixes_each_feature_with_its_side():
    row = case_feature_row(
        {"right": {"original_firstorder_Mean": 2.0}, "left": {"original_firstorder_Mean": 1}}
    )
    assert row == {"left_original_firstorder_Mean": 1.0, "right_original_firstorder_Mean": 2.0}


def test_a_config_is_frozen_and_round_trips_through_a_dict():
    config = small_config()
    assert ClassifierConfig.from_dict(config.as_dict()) == config
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.seed = 1


def test_the_training_probabilities_are_out_of_bag_not_apparent():
    """Table 3's training row: with shuffled labels a forest's apparent AUC is near 1 (it has seen every
    case), while its out-of-bag AUC stays near chance. Before, only the apparent probabilities existed."""
    rows, labels = planted_cohort(n=150)
    shuffled = list(np.random.default_rng(4).permutation(labels))
    model = fit_radiomics_model(rows, shuffled, config=small_config())
    out_of_bag, scored = model.training_proba(rows)
    forest = model.pipeline.named_steps["forest"]
    assert scored.all()
    assert np.array_equal(out_of_bag, forest.oob_decision_function_)
    apparent = class_aucs(model, rows, shuffled)
    honest = probability_aucs(out_of_bag, shuffled, model.classes)
    assert min(apparent.values()) > 0.95
    assert max(honest.values()) < 0.7


def test_the_baseline_has_no_out_of_bag_probabilities():
    rows, labels = planted_cohort(n=90)
    model = fit_baseline_model([row["wavelet-LLH_glcm_F0"] for row in rows], labels, config=small_config())
    _, scored = model.training_proba([{"mean_trabecular_hu": row["wavelet-LLH_glcm_F0"]} for row in rows])
    assert not scored.any()
