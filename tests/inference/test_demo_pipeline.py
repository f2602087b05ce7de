"""The demo's model pipeline as one job: train segmentation -> promote -> segment the cohort -> train the
classifier on the predicted masks -> promote; every step a job of its own."""

from inference.kinds import CLASSIFIER_TRAIN_JOB, SEGMENT_COHORT_JOB, SEGMENTATION_TRAIN_JOB
from inference.models import ModelVersion, Prediction, SegmentationPrediction
from jobs.models import Job
from jobs.services import job_run
from osteoscreen.demo.pipeline import demo_pipeline_start

from model_helpers import (
    TINY_CLASSIFIER_CONFIG,
    TINY_RADIOMICS_PARAMS,
    TINY_STAGE,
    approve_reference,
    hip_case,
    reading_team,
)


def perfect_segmenter(cases_and_labels):
    """Stands in for the tiny, untrained cascade (whose masks may miss a femur) so the pipeline's later
    steps have real VOIs to read: it answers each case's reference labels."""
    import hashlib

    import SimpleITK as sitk

    from cases.selectors import case_image

    def key(image):
        return hashlib.sha256(sitk.GetArrayViewFromImage(image).tobytes()).hexdigest()

    known = {key(case_image(case)): labels for case, labels in cases_and_labels}

    def segment_image(image, coarse, fine, **kw):
        mask = sitk.GetImageFromArray(known[key(image)])
        mask.CopyInformation(image)
        return mask

    return segment_image


def test_the_pipeline_leaves_active_models_and_predictions(db, tmp_path, settings, pi, monkeypatch):
    import torch

    from cases.services import SplitParams, cohort_create, split_create

    torch.set_num_threads(1)
    params, config = tmp_path / "params.yaml", tmp_path / "classifier.yaml"
    params.write_text(TINY_RADIOMICS_PARAMS)
    config.write_text(TINY_CLASSIFIER_CONFIG)
    settings.RADIOMICS_PARAMS_PATH, settings.CLASSIFIER_CONFIG_PATH = str(params), str(config)
    classes = ("normal", "osteopenia", "osteoporosis") * 4
    made = [hip_case(tmp_path, seed=k, study_id=f"D-{k}", bone_status=c) for k, c in enumerate(classes)]
    cohort = cohort_create(name="Demo study", cases=[c for c, _ in made])
    team = reading_team()
    for case, labels in made:
        approve_reference(case, labels, cohort=cohort, team=team)
    split_create(
        cohort=cohort, params=SplitParams(seed=1, test_fraction=0.0, validation_fraction=0.25, stratify=True)
    )

    monkeypatch.setattr("inference.ml.segmentation.segment_image", perfect_segmenter(made))
    job = demo_pipeline_start(owner=pi, epochs=1, stage_overrides=TINY_STAGE, randomised_cases=0)
    job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error
    active = {v.family: v for v in ModelVersion.objects.filter(status="active")}
    assert set(active) == {"segmentation", "classifier", "baseline"}
    assert SegmentationPrediction.objects.filter(model_version=active["segmentation"]).count() == 12
    assert active["classifier"].parent == active["segmentation"]
    assert Prediction.objects.filter(model_version=active["classifier"], mask_source="prediction").exists()
    kinds = set(Job.objects.exclude(pk=job.pk).values_list("kind", flat=True))
    assert {SEGMENTATION_TRAIN_JOB, SEGMENT_COHORT_JOB, CLASSIFIER_TRAIN_JOB} <= kinds
