"""The "Retrain classifier" job on a small synthetic feature set: features extracted by per-case child
jobs, the pipeline and baseline fitted on the training subset, versions with lineage, predictions."""

import pytest

from inference.errors import InvalidRequest, TrainingInProgress
from inference.kinds import RADIOMICS_EXTRACT_JOB
from inference.models import FeatureVector, ModelVersion, Prediction
from inference.training.classifier import classifier_training_start
from jobs.models import Job
from jobs.services import job_run

from model_helpers import bone_cohort, hip_cohort

Status = ModelVersion.Status


pytestmark = pytest.mark.usefixtures("tiny_classifier_settings")


def train(cohort, owner, **kw):
    job = classifier_training_start(owner=owner, cohort=cohort, **kw)
    job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error
    return job


def test_it_trains_both_models_and_predicts_every_case_of_the_split(db, tmp_path, pi):
    cohort, split = bone_cohort(tmp_path)
    job = train(cohort, pi)
    classifier = ModelVersion.objects.get(family="classifier", job=job)
    baseline = ModelVersion.objects.get(family="baseline", job=job)
    assert classifier.status == baseline.status == Status.TRAINED
    assert classifier.lineage["split_id"] == split.pk and classifier.lineage["mask_source"] == "reference"
    assert len(classifier.lineage["feature_settings_hash"]) == 64 and classifier.lineage["code_version"]
    assert {f.role for f in classifier.files.all()} == {"pipeline", "features"}
    assert 1 <= len(classifier.metrics["selected_features"]) <= 5
    for version in (classifier, baseline):
        predictions = Prediction.objects.filter(model_version=version)
        assert predictions.count() == split.memberships.count()
        assert {p.subset for p in predictions} == {"training", "validation"}
        assert all(p.true_class == p.case.bone_status for p in predictions)
        assert all(abs(sum(p.probabilities.values()) - 1) < 1e-4 for p in predictions)


def test_a_planted_signal_gives_a_high_validation_auc(db, tmp_path, pi):
    cohort, _ = bone_cohort(tmp_path)
    train(cohort, pi)
    for family in ("classifier", "baseline"):
        aucs = ModelVersion.objects.get(family=family).metrics["validation_auc"]
        assert min(aucs.values()) > 0.9, (family, aucs)


def test_shuffled_labels_give_no_signal(db, tmp_path, pi):
    cohort, _ = bone_cohort(tmp_path, shuffled=True, name="Shuffled")
    train(cohort, pi)
    aucs = ModelVersion.objects.get(family="baseline").metrics["validation_auc"]
    assert sum(aucs.values()) / 3 < 0.85, aucs


def test_features_are_extracted_once_per_mask_and_reused(db, tmp_path, pi):
    cohort, split = bone_cohort(tmp_path)
    train(cohort, pi)
    stored = FeatureVector.objects.count()
    assert stored == 2 * split.memberships.count()  # two sides per case
    extractions = Job.objects.filter(kind=RADIOMICS_EXTRACT_JOB).count()
    for version in ModelVersion.objects.all():
        ModelVersion.objects.filter(pk=version.pk).update(status=Status.RETIRED)
    train(cohort, pi)
    assert FeatureVector.objects.count() == stored
    assert Job.objects.filter(kind=RADIOMICS_EXTRACT_JOB).count() == extractions


def test_it_refuses_a_training_subset_without_every_class(db, tmp_path, pi):
    cohort, _ = hip_cohort(tmp_path, n=3, with_references=False)  # one case per class: training lacks some
    with pytest.raises(InvalidRequest, match="class"):
        classifier_training_start(owner=pi, cohort=cohort)


def test_it_refuses_predicted_masks_without_an_active_segmentation_model(db, tmp_path, pi):
    cohort, _ = bone_cohort(tmp_path, per_class=2)
    with pytest.raises(InvalidRequest, match="active segmentation"):
        classifier_training_start(owner=pi, cohort=cohort, mask_source="prediction")


def test_a_second_classifier_training_is_refused(db, tmp_path, pi):
    cohort, _ = bone_cohort(tmp_path, per_class=2)
    classifier_training_start(owner=pi, cohort=cohort)
    with pytest.raises(TrainingInProgress):
        classifier_training_start(owner=pi, cohort=cohort)


def test_the_training_predictions_and_auc_are_the_forests_out_of_bag_ones(db, tmp_path, pi):
    """Table 3's training row reads these predictions; before, they were the forest's apparent ones."""
    import csv

    import numpy as np

    from inference.ml.classifier import BoneStatusModel, probability_aucs

    cohort, _ = bone_cohort(tmp_path)
    job = train(cohort, pi)
    version = ModelVersion.objects.get(family="classifier", job=job)
    model = BoneStatusModel.load(version.files.get(role="pipeline").file.path)
    with open(version.files.get(role="features").file.path, newline="") as handle:
        table = [row for row in csv.DictReader(handle) if row["subset"] == "training"]
    rows = [{name: float(row[name]) for name in model.feature_names} for row in table]
    out_of_bag, scored = model.training_proba(rows)
    assert scored.all()
    stored = {p.case_id: p for p in Prediction.objects.filter(model_version=version, subset="training")}
    for row, expected in zip(table, out_of_bag, strict=True):
        got = [stored[int(row["case_id"])].probabilities[c] for c in model.classes]
        assert np.allclose(got, expected, atol=1e-6)
    assert not np.allclose(model.predict_proba(rows), out_of_bag, atol=1e-3)  # apparent differs
    truth = [stored[int(row["case_id"])].true_class for row in table]
    expected_auc = probability_aucs(out_of_bag, truth, model.classes)
    assert version.metrics["training_auc"] == {k: round(v, 4) for k, v in expected_auc.items()}
    assert version.metrics["training_probabilities"] == "out-of-bag"
    baseline = ModelVersion.objects.get(family="baseline", job=job)
    assert baseline.metrics["training_probabilities"] == "apparent"


def test_held_out_cases_masked_by_a_segmenter_that_trained_on_them_are_counted():
    """The training job records them in both versions' metrics and logs a warning (the dashboard shows it)."""
    from types import SimpleNamespace

    from inference.training.classifier import _Row, in_sample_masks

    segmentation = SimpleNamespace(lineage={"training_cases": [{"case_id": 1}, {"case_id": 2}]})
    rows = [
        _Row(SimpleNamespace(pk=pk), subset, {}, 0.0, 10 + pk)
        for pk, subset in ((1, "training"), (2, "validation"), (3, "test"))
    ]
    assert in_sample_masks(rows, segmentation) == {"validation": 1}
    assert in_sample_masks(rows, None) == {}
