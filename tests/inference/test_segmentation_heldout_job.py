"""The "Retrain segmentation" job scores the held-out profile and stores it in the version's metrics; the
version page shows it beside the validation and marks a version that falls off out of distribution."""

import pytest

from inference.ml.segmentation.heldout import OOD_DICE_GAP_LIMIT
from inference.models import ModelVersion

from model_helpers import hip_cohort, trained_segmentation

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture
def version(db, tmp_path, pi):
    cohort, _ = hip_cohort(tmp_path, n=3)
    return trained_segmentation(cohort, pi, promote=False)


def test_training_stores_the_heldout_score_beside_the_validation(version, pi, client):
    ood = version.metrics["out_of_distribution"]
    assert ood["n"] == 3 and ood["dice_mean"] is not None and len(ood["per_case"]) == 3
    assert ood["limit"] == OOD_DICE_GAP_LIMIT and isinstance(ood["below_validation"], bool)
    client.force_login(pi)
    page = client.get(f"/models/versions/{version.pk}/").content.decode()
    assert "Held-out profile (out of distribution)" in page and "Validation (in distribution)" in page


@pytest.mark.parametrize(
    ("gap", "marked"), [(OOD_DICE_GAP_LIMIT + 0.02, True), (OOD_DICE_GAP_LIMIT - 0.02, False)]
)
def test_the_page_marks_a_version_whose_heldout_dice_falls_more_than_the_limit(
    version, pi, client, gap, marked
):
    metrics = version.metrics
    validation = metrics["summary"]["dice_mean"] or 0.9
    metrics["out_of_distribution"] |= {
        "dice_mean": validation - gap,
        "dice_gap": gap,
        "below_validation": gap > OOD_DICE_GAP_LIMIT,
    }
    ModelVersion.objects.filter(pk=version.pk).update(metrics=metrics)
    client.force_login(pi)
    page = client.get(f"/models/versions/{version.pk}/").content.decode()
    assert ("Falls off out of distribution" in page) is marked


def test_the_page_says_how_many_randomised_phantoms_a_version_trained_on(version, pi, client):
    client.force_login(pi)
    assert version.lineage["randomised_cases"] == 0  # the tests' trainings mix none in
    assert "randomised phantom" not in client.get(f"/models/versions/{version.pk}/").content.decode()
    lineage = version.lineage | {"randomised_cases": 12}
    ModelVersion.objects.filter(pk=version.pk).update(lineage=lineage)
    page = client.get(f"/models/versions/{version.pk}/").content.decode()
    assert "and 12 randomised phantom CTs" in page
