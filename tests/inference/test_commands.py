"""`manage.py segment` and `manage.py screen`: the deployed path outside the browser, with clear errors."""

import json

import pytest
import SimpleITK as sitk
from django.core.management import CommandError, call_command

from inference.models import ModelVersion
from inference.training.classifier import classifier_training_start
from inference.training.versions import model_version_promote
from jobs.services import job_run

from model_helpers import (
    bone_case,
    bone_cohort,
    hip_case,
    hip_cohort,
    trained_segmentation,
)

pytestmark = pytest.mark.usefixtures("tiny_classifier_settings", "one_torch_thread")


def run(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_segment_says_when_the_image_is_missing(db, tmp_path):
    with pytest.raises(CommandError, match="does not exist"):
        run("segment", str(tmp_path / "nothing.nii.gz"), "--out", str(tmp_path / "mask.nii.gz"))


def test_segment_says_when_the_file_is_not_an_image(db, tmp_path):
    bad = tmp_path / "notes.nii.gz"
    bad.write_text("not a CT")
    with pytest.raises(CommandError, match="could not be read"):
        run("segment", str(bad), "--out", str(tmp_path / "mask.nii.gz"))


def test_segment_says_when_there_is_no_active_model(db, tmp_path):
    case, _ = hip_case(tmp_path, seed=1, study_id="X-1")
    with pytest.raises(CommandError, match="no active segmentation model"):
        run("segment", case.volume.path, "--out", str(tmp_path / "mask.nii.gz"))


def test_segment_writes_a_mask_on_the_ct_grid(db, tmp_path, pi):
    cohort, _ = hip_cohort(tmp_path, n=3)
    version = trained_segmentation(cohort, pi, promote=False)
    source = cohort.cases.first().volume.path
    out = tmp_path / "mask.nii.gz"
    with pytest.raises(CommandError, match="no active"):  # trained but not promoted
        run("segment", source, "--out", str(out))
    printed = run("segment", source, "--out", str(out), "--model-version", str(version.number))
    mask, ct = sitk.ReadImage(str(out)), sitk.ReadImage(source)
    assert mask.GetSize() == ct.GetSize() and mask.GetPixelID() == sitk.sitkUInt8
    assert f"segmentation v{version.number}" in printed


def test_segment_refuses_an_unknown_version(db, tmp_path):
    case, _ = hip_case(tmp_path, seed=1, study_id="X-1")
    with pytest.raises(CommandError, match="no segmentation model version 7"):
        run("segment", case.volume.path, "--out", str(tmp_path / "m.nii.gz"), "--model-version", "7")


def test_screen_says_when_there_is_no_active_classifier(db, tmp_path):
    case, _ = hip_case(tmp_path, seed=1, study_id="X-1")
    with pytest.raises(CommandError, match="no active classifier model"):
        run("screen", case.volume.path)


def test_screen_runs_the_whole_deployed_path(db, tmp_path, pi, monkeypatch):
    cohort, _ = bone_cohort(tmp_path)
    job = classifier_training_start(owner=pi, cohort=cohort)
    job_run(job_id=job.pk)
    for version in ModelVersion.objects.filter(job=job):
        model_version_promote(version=version, actor=pi)
    trained_segmentation(hip_cohort(tmp_path, n=3, name="Hips")[0], pi)
    case, labels = bone_case(tmp_path, study_id="NEW-1", bone_status="osteoporosis", seed=99)

    # The tiny segmentation model is untrained; a perfect one stands in so the rest of the path is tested.
    def perfect_segmenter(image, coarse, fine, **kw):
        mask = sitk.GetImageFromArray(labels)
        mask.CopyInformation(image)
        return mask

    monkeypatch.setattr("inference.ml.segmentation.segment_image", perfect_segmenter)
    # The toy case's "femurs" are 0.8 cm3 bone blocks, which QC rightly finds implausible; QC has its own
    # tests (test_screen_qc.py), so here every side is passed as assessable to reach the classifier.
    monkeypatch.setattr(
        "inference.predictions.screening.screening_qc",
        lambda image, mask, *, sides, voxels=None, confidence=None: {
            side: {"assessable": True, "qc": [], "voxels": voxels[side]} for side in sides
        },
    )
    result = json.loads(run("screen", case.volume.path, "--json", "--workers", "1"))
    assert result["predicted_class"] == "osteoporosis"
    assert abs(sum(result["probabilities"].values()) - 1) < 1e-6
    assert set(result["seconds"]) >= {"segmentation", "features", "classification", "total"}
    assert result["versions"]["classifier"] == 1 and result["baseline_probabilities"]
    assert result["assessable"] is True and result["per_side"]["left"] == {
        "assessable": True,
        "qc": [],
        "voxels": int((labels == 1).sum()),
    }
    printed = run("screen", case.volume.path, "--workers", "1")
    assert "bone status: osteoporosis" in printed


def test_a_model_file_changed_after_training_is_refused(db, tmp_path, pi):
    cohort, _ = hip_cohort(tmp_path, n=3)
    version = trained_segmentation(cohort, pi)
    coarse = version.files.get(role="coarse")
    with open(coarse.file.path, "ab") as handle:
        handle.write(b"tampered")
    with pytest.raises(CommandError, match="SHA-256"):
        run("segment", cohort.cases.first().volume.path, "--out", str(tmp_path / "m.nii.gz"))
