"""The model pages and API: who may see, start and promote; 409 for a second training; the case page's
predictions and the overlay of a predicted mask."""

from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk
from django.core.files.base import ContentFile

from inference.kinds import SEGMENTATION_TRAIN_JOB
from inference.models import ModelVersion, Prediction, SegmentationPrediction
from inference.training.versions import model_version_create, model_version_mark_trained

from model_helpers import hip_cohort


@pytest.fixture
def trained(db, tmp_path):
    version = model_version_create(family="classifier", name="RF")
    path = tmp_path / "model.joblib"
    path.write_bytes(b"fitted")
    return model_version_mark_trained(
        version=version, metrics={"validation_auc": {"normal": 0.91}}, files={"pipeline": path}
    )


def login(client, user):
    client.force_login(user)
    return client


def test_readers_get_403_on_every_model_page_and_endpoint(client, api_client, reader, trained):
    login(client, reader)
    api_client.force_authenticate(reader)
    for url in ("/models/", f"/models/versions/{trained.pk}/"):
        assert client.get(url).status_code == 403
    for url in ("/api/models/versions/", f"/api/models/versions/{trained.pk}/"):
        assert api_client.get(url).status_code == 403
    assert api_client.post(f"/api/models/versions/{trained.pk}/promote/").status_code == 403


def test_coordinators_see_versions_but_cannot_promote_or_train(client, api_client, coordinator, trained):
    page = login(client, coordinator).get("/models/")
    assert page.status_code == 200 and b"v1" in page.content and b"Promote" not in page.content
    api_client.force_authenticate(coordinator)
    listed = api_client.get("/api/models/versions/?family=classifier").json()
    assert listed["results"][0]["files"][0]["sha256"] == trained.files.get().sha256
    assert api_client.post(f"/api/models/versions/{trained.pk}/promote/").status_code == 403
    assert api_client.post("/api/models/segmentation/train/", {"cohort": 1}).status_code == 403


def test_a_pi_promotes_from_the_page_and_the_api(client, api_client, pi, trained, tmp_path):
    page = login(client, pi).get(f"/models/versions/{trained.pk}/")
    assert b"Promote to active" in page.content and trained.files.get().sha256.encode() in page.content
    client.post(f"/models/versions/{trained.pk}/promote/")
    trained.refresh_from_db()
    assert trained.status == "active"
    second = model_version_create(family="classifier")
    path = tmp_path / "second.joblib"
    path.write_bytes(b"refitted")
    model_version_mark_trained(version=second, metrics={}, files={"pipeline": path})
    api_client.force_authenticate(pi)
    answer = api_client.post(f"/api/models/versions/{second.pk}/promote/")
    assert answer.status_code == 200 and answer.json()["status"] == "active"
    trained.refresh_from_db()
    assert trained.status == "retired"
    assert api_client.post(f"/api/models/versions/{second.pk}/promote/").status_code == 409


def test_starting_a_training_answers_202_and_a_second_one_409(api_client, pi, tmp_path):
    cohort, _ = hip_cohort(tmp_path, n=3)
    api_client.force_authenticate(pi)
    first = api_client.post(
        "/api/models/segmentation/train/", {"cohort": cohort.pk, "epochs": 1}, format="json"
    )
    assert first.status_code == 202 and first.json()["kind"] == SEGMENTATION_TRAIN_JOB
    second = api_client.post("/api/models/segmentation/train/", {"cohort": cohort.pk}, format="json")
    assert second.status_code == 409 and "already training" in second.json()["detail"]
    assert ModelVersion.objects.filter(family="segmentation").count() == 1


def test_bad_start_requests_answer_400(api_client, pi, tmp_path):
    cohort, _ = hip_cohort(tmp_path, n=3, with_references=False)
    api_client.force_authenticate(pi)
    for url, body in (
        ("/api/models/segmentation/train/", {"cohort": cohort.pk, "config_name": "huge"}),
        ("/api/models/segmentation/train/", {"cohort": cohort.pk, "randomised_cases": -1}),
        ("/api/models/segmentation/train/", {"cohort": cohort.pk, "randomised_cases": 201}),
        ("/api/models/segmentation/train/", {"cohort": cohort.pk, "randomised_cases": "many"}),
        ("/api/models/segmentation/train/", {"cohort": cohort.pk}),
        ("/api/models/segment-cohort/", {"cohort": cohort.pk}),
        ("/api/models/classifier/train/", {"cohort": cohort.pk, "mask_source": "dream"}),
    ):
        answer = api_client.post(url, body, format="json")
        assert answer.status_code in (400, 404, 409), (url, answer.status_code)
    assert not ModelVersion.objects.exists()


@pytest.mark.parametrize("value", ["-1", "201", "many"])
def test_the_training_form_refuses_a_bad_number_of_randomised_cases_and_starts_nothing(
    client, pi, tmp_path, value
):
    cohort, _ = hip_cohort(tmp_path, n=3)
    page = login(client, pi).post(
        "/models/train/segmentation/", {"cohort": cohort.pk, "randomised_cases": value}, follow=True
    )
    assert page.status_code == 200 and "randomised phantom cases" in page.content.decode()
    assert not ModelVersion.objects.exists()


def test_the_training_form_passes_the_number_of_randomised_cases_on(client, pi, tmp_path):
    cohort, _ = hip_cohort(tmp_path, n=3)
    login(client, pi).post("/models/train/segmentation/", {"cohort": cohort.pk, "randomised_cases": "5"})
    version = ModelVersion.objects.get(family="segmentation")
    assert version.config["randomised_cases"] == 5 and version.lineage["randomised_cases"] == 5


def test_the_training_page_shows_live_progress_and_the_chart(client, pi, tmp_path):
    from inference.training.segmentation import segmentation_training_start

    cohort, _ = hip_cohort(tmp_path, n=3)
    job = segmentation_training_start(owner=pi, cohort=cohort, epochs=1)
    page = login(client, pi).get(f"/models/jobs/{job.pk}/")
    assert page.status_code == 200
    assert b'class="job-progress"' in page.content and b"training-chart" in page.content


def _segmentation(case, version):
    labels = np.zeros(case.size[::-1], np.uint8)
    labels[4:8, 5:10, 3:8], labels[4:8, 5:10, 14:20] = 2, 1
    image = sitk.GetImageFromArray(labels)
    image.CopyInformation(sitk.ReadImage(case.volume.path))
    path = Path(case.volume.path).with_name("mask-test.nii.gz")
    sitk.WriteImage(image, str(path))
    prediction = SegmentationPrediction(
        case=case,
        model_version=version,
        mask_sha256="0" * 64,
        voxels={"1": 120, "2": 100},
        dice={"1": 0.9, "2": 0.8, "overall": 0.85},
    )
    prediction.mask.save("mask.nii.gz", ContentFile(path.read_bytes()))
    return prediction


def test_the_case_page_shows_predictions_and_links_the_overlay(client, pi, make_case, trained):
    case = make_case()
    segmentation = model_version_create(family="segmentation")
    prediction = _segmentation(case, segmentation)
    Prediction.objects.create(
        case=case,
        model_version=trained,
        mask_source="prediction",
        segmentation=prediction,
        probabilities={"normal": 0.2, "osteopenia": 0.7, "osteoporosis": 0.1},
        predicted_class="osteopenia",
        true_class="osteoporosis",
        subset="validation",
    )
    page = login(client, pi).get(f"/cases/{case.pk}/")
    assert page.status_code == 200
    assert b"Model predictions" in page.content and b"0.700" in page.content
    overlay_url = f"/models/segmentations/{prediction.pk}/overlay/"
    assert overlay_url.encode() in page.content
    assert client.get(overlay_url).status_code == 200
    png = client.get(f"{overlay_url}5.png")
    assert png.status_code == 200 and png.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert client.get(f"{overlay_url}999.png").status_code == 404


def test_a_version_file_downloads_with_its_sha256(client, coordinator, reader, trained):
    stored = trained.files.get()
    answer = login(client, coordinator).get(f"/models/versions/{trained.pk}/files/pipeline/")
    assert answer.status_code == 200 and b"".join(answer.streaming_content) == b"fitted"
    assert answer["X-Content-SHA256"] == stored.sha256
    assert client.get(f"/models/versions/{trained.pk}/files/coarse/").status_code == 404
    assert login(client, reader).get(f"/models/versions/{trained.pk}/files/pipeline/").status_code == 403
