"""Helpers for the models app's tests: tiny synthetic hip CTs imported as cases, reference VOIs approved
through the real reading workflow, a cohort with a split, and a tiny training configuration."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import SimpleITK as sitk

# Tiny on purpose: a 4 mm grid holding both femurs, both cascade stages at 4 mm (the design's 1 mm fine
# stage would make an untrained model's crops the size of the whole CT), and networks a few kilobytes
# big, so that a whole training job runs in seconds on a CPU core. Nothing here is meant to segment well.
HIP_SIZE = (64, 48, 36)
HIP_SPACING = (4.0, 4.0, 4.0)
TINY_STAGE = {
    "spacing_mm": 4.0,
    "patch_size": [16, 16, 16],
    "base_width": 4,
    "depth": 2,
    "patches_per_case": 2,
    "batch_size": 2,
}


def hip_case(
    tmp_path: Path, *, seed: int, study_id: str, bone_status: str = "normal", exam: dt.datetime | None = None
):
    """Import a synthetic hip CT as a case; returns (case, its true labels as a uint8 array z,y,x)."""
    from cases.models import Case
    from cases.services import case_import
    from inference.ml.segmentation.synthetic import synthetic_hip

    image, labels = synthetic_hip(size=HIP_SIZE, spacing=HIP_SPACING, seed=seed)
    path = tmp_path / f"{study_id}.nii.gz"
    sitk.WriteImage(image, str(path))
    case = case_import(
        path=path,
        study_id=study_id,
        sex="F",
        birth_year=1950,
        metadata={"exam_datetime": exam or dt.datetime(2024, 1, 1 + seed, tzinfo=dt.UTC)},
    ).case
    Case.objects.filter(pk=case.pk).update(bone_status=bone_status)
    case.refresh_from_db()
    return case, sitk.GetArrayFromImage(labels)


def reading_team():
    from accounts.roles import Role
    from accounts.services import user_create_with_role

    reader = user_create_with_role(username="hip-reader", password="pw", role=Role.READER)
    senior = user_create_with_role(username="hip-senior", password="pw", role=Role.READER, senior=True)
    coordinator = user_create_with_role(username="hip-coordinator", password="pw", role=Role.COORDINATOR)
    return reader, senior, coordinator


def approve_reference(case, labels, *, cohort, team) -> None:
    """Reader draws `labels`, submits, the senior approves: the case gets a reference VOI."""
    from annotations.labelmaps import labelmap_nifti_bytes
    from annotations.selectors import case_grid
    from annotations.services import assignment_create, assignment_submit, review_approve, revision_save

    reader, senior, coordinator = team
    assignment = assignment_create(case=case, reader=reader, cohort=cohort, created_by=coordinator)
    revision_save(
        assignment=assignment,
        user=reader,
        content=labelmap_nifti_bytes(labels, grid=case_grid(case)),
        filename="voi.nii.gz",
        base_revision_id=None,
    )
    assignment_submit(assignment=assignment, user=reader)
    review_approve(assignment=assignment, reviewer=senior)


def split_of(cohort, *, validation_fraction: float = 0.34, test_fraction: float = 0.0):
    from cases.services import SplitParams, split_create

    return split_create(
        cohort=cohort,
        params=SplitParams(
            seed=7, test_fraction=test_fraction, validation_fraction=validation_fraction, stratify=False
        ),
    )


def hip_cohort(tmp_path: Path, *, n: int = 4, with_references: bool = True, name: str = "Hips"):
    """A cohort of n synthetic hips (classes cycling), each with a reference VOI, and a split."""
    from cases.services import cohort_create

    classes = ("normal", "osteopenia", "osteoporosis")
    cases = [
        hip_case(tmp_path, seed=k, study_id=f"HIP-{k:03d}", bone_status=classes[k % 3]) for k in range(n)
    ]
    cohort = cohort_create(name=name, cases=[c for c, _ in cases])
    if with_references:
        team = reading_team()
        for case, labels in cases:
            approve_reference(case, labels, cohort=cohort, team=team)
    return cohort, split_of(cohort)


# --- a small feature set with a planted signal ----------------------------------------------------------

TINY_RADIOMICS_PARAMS = """
imageType:
  Original: {}
featureClass:
  firstorder:
setting:
  binWidth: 25
"""
TINY_CLASSIFIER_CONFIG = """
seed: 3
classes: [normal, osteopenia, osteoporosis]
rfe: {n_features: 12, step: 0.2}
mrmr: {n_features: 8}
lasso: {max_features: 5}
forest: {n_estimators: 60}
"""
# Bone HU per class: the planted signal (denser bone, higher class index lower HU), far above the noise.
CLASS_HU = {"normal": 420, "osteopenia": 300, "osteoporosis": 180}
SMALL_SIZE = (28, 20, 16)


def bone_case(tmp_path: Path, *, study_id: str, bone_status: str, seed: int, shuffle_hu: int | None = None):
    """A small CT with two bone blocks whose HU carries the class (unless shuffle_hu overrides it), and
    the blocks as the two sides' labels."""
    import numpy as np

    from cases.models import Case
    from cases.services import case_import

    rng = np.random.default_rng(seed)
    nx, ny, nz = SMALL_SIZE
    hu = CLASS_HU[bone_status] if shuffle_hu is None else shuffle_hu
    array = np.full((nz, ny, nx), -1000.0)
    labels = np.zeros((nz, ny, nx), np.uint8)
    array[:, 2:18, 1:27] = 40
    for label, (x0, x1) in ((1, (16, 24)), (2, (3, 11))):  # label 1 (left) at +x
        labels[3:13, 5:15, x0:x1] = label
        array[3:13, 5:15, x0:x1] = hu
    array += rng.normal(0, 25, array.shape)
    image = sitk.GetImageFromArray(array.astype(np.int16))
    image.SetSpacing((1.0, 1.0, 1.0))
    path = tmp_path / f"{study_id}.nii.gz"
    sitk.WriteImage(image, str(path))
    case = case_import(
        path=path,
        study_id=study_id,
        sex="M",
        birth_year=1960,
        metadata={"exam_datetime": dt.datetime(2024, 2, 1, tzinfo=dt.UTC) + dt.timedelta(days=seed)},
    ).case
    Case.objects.filter(pk=case.pk).update(bone_status=bone_status)
    case.refresh_from_db()
    return case, labels


def bone_cohort(tmp_path: Path, *, per_class: int = 6, shuffled: bool = False, name: str = "Bones"):
    """per_class cases of each class with reference VOIs, split training/validation (stratified)."""
    import numpy as np

    from cases.services import SplitParams, cohort_create, split_create

    classes = [c for c in CLASS_HU for _ in range(per_class)]
    rng = np.random.default_rng(11)
    hus = rng.permutation([CLASS_HU[c] for c in classes]) if shuffled else [None] * len(classes)
    made = [
        bone_case(
            tmp_path,
            study_id=f"{name[:3].upper()}-{k:03d}",
            bone_status=c,
            seed=k,
            shuffle_hu=None if hu is None else int(hu),
        )
        for k, (c, hu) in enumerate(zip(classes, hus, strict=True))
    ]
    cohort = cohort_create(name=name, cases=[c for c, _ in made])
    team = reading_team()
    for case, labels in made:
        approve_reference(case, labels, cohort=cohort, team=team)
    split = split_create(
        cohort=cohort, params=SplitParams(seed=5, test_fraction=0.0, validation_fraction=0.34)
    )
    return cohort, split


def trained_segmentation(cohort, owner, *, promote: bool = True):
    """A tiny segmentation version trained by the real job on the cohort (promoted by `owner`, a PI)."""
    from inference.models import ModelVersion
    from inference.training.segmentation import segmentation_training_start
    from inference.training.versions import model_version_promote
    from jobs.services import job_run

    job = segmentation_training_start(
        owner=owner,
        cohort=cohort,
        config_name="demo",
        epochs=1,
        stage_overrides=TINY_STAGE,
        randomised_cases=0,  # tests of the job, not of randomisation: no minute of phantom generation
    )
    job_run(job_id=job.pk)
    version = ModelVersion.objects.get(job=job)
    assert version.status == "trained", job.error
    return model_version_promote(version=version, actor=owner) if promote else version
