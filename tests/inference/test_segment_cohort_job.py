"""The "Segment cohort" job: the active model's mask for every case, with Dice and volume difference
against the reference VOI, and the reader's starting labelmap taken from it."""

import hashlib
from pathlib import Path

import pytest
import SimpleITK as sitk

from inference.errors import NoActiveModel
from inference.models import SegmentationPrediction
from inference.training.segmentation import segment_cohort_start
from jobs.models import Job
from jobs.services import job_run

from model_helpers import hip_cohort, trained_segmentation

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_it_refuses_to_start_without_an_active_model(db, tmp_path, pi):
    cohort, _ = hip_cohort(tmp_path, n=3, with_references=False)
    with pytest.raises(NoActiveModel):
        segment_cohort_start(owner=pi, cohort=cohort)


def test_every_case_gets_a_mask_with_its_sha256_dice_and_volume_difference(db, tmp_path, pi):
    from annotations.selectors import start_labelmap_path

    cohort, _ = hip_cohort(tmp_path, n=3)
    version = trained_segmentation(cohort, pi)
    job = segment_cohort_start(owner=pi, cohort=cohort)
    job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error
    predictions = SegmentationPrediction.objects.filter(model_version=version)
    assert predictions.count() == 3
    for prediction in predictions:
        content = prediction.mask.read()
        assert prediction.mask_sha256 == hashlib.sha256(content).hexdigest()
        mask = sitk.ReadImage(prediction.mask.path)
        assert list(mask.GetSize()) == prediction.case.size
        assert set(prediction.dice) == {"1", "2", "overall"}
        assert 0.0 <= prediction.dice["overall"] <= 1.0
        assert "overall" in prediction.volume_difference_cm3
        assert prediction.reference_sha256
        assert start_labelmap_path(prediction.case) == Path(prediction.mask.path)
    assert job.result["cases"] == 3 and job.result["with_reference"] == 3


def test_running_it_again_keeps_the_stored_masks(db, tmp_path, pi):
    cohort, _ = hip_cohort(tmp_path, n=3)
    trained_segmentation(cohort, pi)
    job_run(job_id=segment_cohort_start(owner=pi, cohort=cohort).pk)
    before = dict(SegmentationPrediction.objects.values_list("pk", "mask_sha256"))
    job_run(job_id=segment_cohort_start(owner=pi, cohort=cohort).pk)
    assert dict(SegmentationPrediction.objects.values_list("pk", "mask_sha256")) == before
