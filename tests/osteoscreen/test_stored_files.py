"""Every kind of stored file, requested anonymously and as each role: never through /media/ (404 for
everyone, DEBUG or not), and through its own view only for the role and blinding state allowed.

Kinds: CT volume (and its raw sidecar), VOI revision (NIfTI and viewer gzip), predicted mask, model
checkpoint, feature table, prediction export, an upload waiting in staging, a job's work folder."""

import hashlib
import importlib
from pathlib import Path

import numpy as np
import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import clear_url_caches

REFUSED = {302, 401, 403, 404}
ROLES = ["anonymous", "reader", "senior", "coordinator", "pi", "admin"]


@pytest.fixture
def site_urls_with_debug_on(settings):
    """The URLconf as a DEBUG settings module loads it: the old code served MEDIA_ROOT exactly then."""
    import osteoscreen.urls

    settings.DEBUG = True
    importlib.reload(osteoscreen.urls)
    clear_url_caches()
    yield
    settings.DEBUG = False
    importlib.reload(osteoscreen.urls)
    clear_url_caches()


@pytest.fixture
def people(db):
    from accounts.roles import Role
    from accounts.services import user_create_with_role

    return {
        "reader": user_create_with_role(username="files-reader", password="pw", role=Role.READER),
        "senior": user_create_with_role(
            username="files-senior", password="pw", role=Role.READER, senior=True
        ),
        "coordinator": user_create_with_role(
            username="files-coordinator", password="pw", role=Role.COORDINATOR
        ),
        "pi": user_create_with_role(username="files-pi", password="pw", role=Role.PI),
        "admin": user_create_with_role(username="files-admin", password="pw", role=Role.ADMIN),
    }


def client_as(people, role) -> Client:
    client = Client()
    if role != "anonymous":
        client.force_login(people[role])
    return client


@pytest.fixture
def study(people, make_case, settings):
    """An interobserver case read by both readers (the reader has saved, not submitted), an active
    segmentation model with its checkpoint and prediction, a classifier with its feature table, an
    upload in staging and a job's work folder."""
    from annotations.labelmaps import labelmap_nifti_bytes
    from annotations.selectors import case_grid, case_raw_volume_path
    from annotations.services import assignment_create, revision_save
    from cases.models import Cohort
    from inference.models import ModelFile, ModelVersion, SegmentationPrediction

    case = make_case(size=(24, 20, 16))
    cohort = Cohort.objects.create(name="Files")
    cohort.cases.add(case)
    own = assignment_create(
        case=case,
        reader=people["reader"],
        cohort=cohort,
        created_by=people["coordinator"],
        study_role="interobserver",
    )
    other = assignment_create(
        case=case,
        reader=people["senior"],
        cohort=cohort,
        created_by=people["coordinator"],
        study_role="interobserver",
    )
    labels = np.zeros(tuple(reversed(case.size)), np.uint8)
    labels[8, 5:9, 5:9] = 1
    nifti = labelmap_nifti_bytes(labels, grid=case_grid(case))
    revision = revision_save(
        assignment=own, user=people["reader"], content=nifti, filename="voi.nii.gz", base_revision_id=None
    )
    case_raw_volume_path(case)  # the viewer's int16 sidecar, cached next to the volume

    segmentation = ModelVersion.objects.create(family="segmentation", number=1, status="active")
    checkpoint = ModelFile(version=segmentation, role="coarse", sha256=hashlib.sha256(b"weights").hexdigest())
    checkpoint.file.save("coarse.pt", ContentFile(b"weights of a real patient cohort"), save=True)
    prediction = SegmentationPrediction(case=case, model_version=segmentation, mask_sha256="ab" * 32)
    prediction.mask.save("mask.nii.gz", ContentFile(nifti), save=True)
    classifier = ModelVersion.objects.create(family="classifier", number=1, status="trained")
    features = ModelFile(version=classifier, role="features", sha256="cd" * 32)
    features.file.save("features.csv", ContentFile(b"case_id,study_id\n1,T-0001\n"), save=True)

    media = Path(settings.MEDIA_ROOT)
    (media / "staging").mkdir()
    (media / "staging" / "upload-1.nii.gz").write_bytes(b"an upload waiting for its import job")
    (media / "work" / "job-1").mkdir(parents=True)
    (media / "work" / "job-1" / "coarse.pt").write_bytes(b"a checkpoint of a running training")
    return {
        "case": case,
        "own": own,
        "other": other,
        "revision": revision,
        "prediction": prediction,
        "segmentation": segmentation,
        "classifier": classifier,
    }


def stored_files(media_root: str) -> list[str]:
    root = Path(media_root)
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


@pytest.mark.parametrize("role", ROLES)
def test_no_stored_file_is_served_under_media_even_with_debug_on(
    study, people, settings, role, site_urls_with_debug_on
):
    names = stored_files(settings.MEDIA_ROOT)
    kinds = {name.split("/")[0] for name in names}
    assert kinds >= {"volumes", "annotations", "predictions", "models", "staging", "work"}, names
    client = client_as(people, role)
    for name in names:
        response = client.get(f"/media/{name}")
        assert response.status_code == 404, name
        assert (
            b"".join(getattr(response, "streaming_content", [response.content]))
            != Path(settings.MEDIA_ROOT, name).read_bytes()
        )


def get(people, role, url):
    return client_as(people, role).get(url).status_code


# Who gets each file through its view: (url builder, roles answered 200).
def views(study):
    own, seg, cls = study["own"].pk, study["segmentation"].pk, study["classifier"].pk
    return {
        "volume of the reader's own case": (f"/api/assignments/{own}/volume.raw", {"reader"}),
        "the reader's own unsubmitted revision": (
            f"/api/assignments/{own}/labelmap/?revision={study['revision'].pk}",
            {"reader"},
        ),
        "the active model's prediction as the reader's start": (
            f"/api/assignments/{own}/labelmap/?revision=start",
            {"reader"},
        ),
        "predicted mask over its CT": (
            f"/models/segmentations/{study['prediction'].pk}/overlay/8.png",
            {"coordinator", "pi", "admin"},
        ),
        "model checkpoint": (f"/models/versions/{seg}/files/coarse/", {"coordinator", "pi", "admin"}),
        "feature table": (f"/models/versions/{cls}/files/features/", {"coordinator", "pi", "admin"}),
    }


@pytest.mark.parametrize("role", ROLES)
def test_each_file_reaches_only_the_allowed_role_through_its_view(study, people, role):
    for what, (url, allowed) in views(study).items():
        status = get(people, role, url)
        if role in allowed:
            assert status == 200, (what, role, status)
        else:
            assert status in REFUSED, (what, role, status)


@pytest.mark.parametrize("role", ROLES)
def test_the_prediction_export_is_refused_to_readers_and_strangers(study, people, role):
    status = get(people, role, "/models/dashboard/predictions.csv")
    # With no evaluated version the allowed roles get 404; what matters is that nobody else gets past the door.
    assert status in ({404, 200} if role in {"coordinator", "pi", "admin"} else {302, 403})


def test_another_readers_revision_stays_blinded_until_both_have_submitted(study, people):
    from annotations.services import assignment_submit, revision_save

    url = f"/api/assignments/{study['own'].pk}/labelmap/?revision={study['revision'].pk}"
    assert get(people, "senior", url) in REFUSED
    assignment_submit(assignment=study["own"], user=people["reader"])
    assert get(people, "senior", url) in REFUSED  # the senior has not submitted their own reading yet
    from annotations.labelmaps import labelmap_nifti_bytes
    from annotations.selectors import case_grid

    case = study["case"]
    labels = np.zeros(tuple(reversed(case.size)), np.uint8)
    labels[7, 4:8, 4:8] = 2
    revision_save(
        assignment=study["other"],
        user=people["senior"],
        base_revision_id=None,
        filename="voi.nii.gz",
        content=labelmap_nifti_bytes(labels, grid=case_grid(case)),
    )
    assignment_submit(assignment=study["other"], user=people["senior"])
    assert get(people, "senior", url) == 200
    assert get(people, "coordinator", url) in REFUSED


@pytest.mark.parametrize("page", ["/api/cases/", "/api/cases/{pk}/", "/cases/{pk}/"])
def test_readers_get_no_file_hash_of_their_cases(study, people, page):
    response = client_as(people, "reader").get(page.format(pk=study["case"].pk))
    assert response.status_code == 200
    body = response.content.decode()
    assert study["case"].volume_sha256 not in body
    assert study["case"].volume_sha256[:16] not in body
    for name in stored_files(study["case"].volume.storage.location):
        assert name not in body and Path(name).name not in body


def test_behind_a_front_server_big_files_are_handed_over_by_x_accel_redirect(study, people, settings):
    settings.FILES_X_ACCEL_REDIRECT_PREFIX = "/protected-media/"
    response = client_as(people, "pi").get(f"/models/versions/{study['segmentation'].pk}/files/coarse/")
    assert response.status_code == 200 and response.content == b""
    assert response["X-Accel-Redirect"] == "/protected-media/" + study["segmentation"].files.get().file.name
    assert "attachment" in response["Content-Disposition"]
    raw = client_as(people, "reader").get(f"/api/assignments/{study['own'].pk}/volume.raw")
    assert raw["X-Accel-Redirect"].startswith("/protected-media/volumes/")
    # The permission check still comes first: a reader gets no redirect to the checkpoint.
    refused = client_as(people, "reader").get(f"/models/versions/{study['segmentation'].pk}/files/coarse/")
    assert refused.status_code == 403 and not refused.has_header("X-Accel-Redirect")
