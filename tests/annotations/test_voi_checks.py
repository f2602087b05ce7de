"""Plausibility warnings of a VOI (an empty side, a side under 20 or over 400 cm3, a VOI touching the
volume's edge) on submit and approve: in the API answers and on the review page, never a refusal."""

import numpy as np
import pytest

from annotations.labelmaps import labels_touching_edge
from annotations.models import Assignment, VOIRevision
from annotations.voi_checks import MAX_SIDE_VOLUME_CM3, MIN_SIDE_VOLUME_CM3, voi_warnings

from reading_helpers import labelmap_for, raw_upload

# 40 x 30 x 30 voxels of 1.5 x 1.5 x 2 mm (4.5 mm3): a 15 x 20 x 20 block is 27 cm3, a plausible side.
SIZE = (40, 30, 30)


def codes(warnings) -> list[str]:
    return [f"{w['code']}-{w['side']}" if isinstance(w, dict) else f"{w.code}-{w.side}" for w in warnings]


def left_only(case) -> np.ndarray:
    """A plausible left femur VOI (label 1, 27 cm3) clear of every edge, and nothing on the right."""
    labels = labelmap_for(case)
    labels[5:25, 5:25, 22:37] = 1
    return labels


@pytest.fixture
def assignment(make_assignment, reader):
    return make_assignment(reader=reader, size=SIZE)


@pytest.fixture
def client_of_reader(api_client, reader):
    api_client.force_authenticate(reader)
    return api_client


def save(client, assignment, labels):
    url = f"/api/assignments/{assignment.pk}/revisions/"
    return client.post(url, {"base_revision": "", "labelmap": raw_upload(labels)}, format="multipart")


def test_the_thresholds_are_the_study_teams():
    assert (MIN_SIDE_VOLUME_CM3, MAX_SIDE_VOLUME_CM3) == (20.0, 400.0)


@pytest.mark.parametrize(
    ("volumes", "expected"),
    [
        ({"1": 80.0, "2": 95.0}, []),
        ({"1": 20.0, "2": 400.0}, []),
        ({"1": 80.0, "2": 0.0}, ["empty-right"]),
        ({"1": 0.0}, ["empty-left", "empty-right"]),
        ({"1": 19.9, "2": 400.1}, ["small-left", "large-right"]),
    ],
)
def test_each_side_is_checked_against_the_volume_range(volumes, expected):
    assert codes(voi_warnings(volume_cm3=volumes, edge_labels=[])) == expected


def test_a_voi_on_the_volumes_edge_is_named_by_its_side():
    warnings = voi_warnings(volume_cm3={"1": 80.0, "2": 80.0}, edge_labels=["2"])

    assert codes(warnings) == ["edge-right"]
    assert "right femur VOI touches the edge" in warnings[0].message


def test_labels_touching_the_edge_are_found_on_every_face():
    labels = np.zeros((6, 7, 8), np.uint8)
    labels[2:4, 2:4, 2:4] = 1
    assert labels_touching_edge(labels) == []
    for face in [(0, 3, 3), (5, 3, 3), (3, 0, 3), (3, 6, 3), (3, 3, 0), (3, 3, 7)]:
        touching = labels.copy()
        touching[face] = 2
        assert labels_touching_edge(touching) == ["2"], face


def test_submitting_an_empty_side_answers_with_a_warning_and_still_submits(client_of_reader, assignment):
    saved = save(client_of_reader, assignment, left_only(assignment.case))

    submitted = client_of_reader.post(f"/api/assignments/{assignment.pk}/submit/")

    assert saved.status_code == 201
    assert codes(saved.json()["warnings"]) == ["empty-right"]
    assert submitted.status_code == 200
    assert submitted.json()["status"] == "submitted"
    assert codes(submitted.json()["warnings"]) == ["empty-right"]
    assert "right femur VOI is empty" in submitted.json()["warnings"][0]["message"]


def test_a_voi_touching_the_edge_warns_even_when_saved_before_the_edge_was_recorded(
    client_of_reader, assignment
):
    labels = left_only(assignment.case)
    labels[0, 10:12, 10:12] = 2  # the right side reaches the first slice
    save(client_of_reader, assignment, labels)
    VOIRevision.objects.update(touches_edge=None)

    revisions = client_of_reader.get(f"/api/assignments/{assignment.pk}/revisions/").json()

    assert "edge-right" in codes(revisions[0]["warnings"])
    assert "edge-left" not in codes(revisions[0]["warnings"])


def test_approving_answers_with_the_vois_warnings(client_of_reader, api_client, assignment, senior):
    save(client_of_reader, assignment, left_only(assignment.case))
    client_of_reader.post(f"/api/assignments/{assignment.pk}/submit/")
    api_client.force_authenticate(senior)

    approved = api_client.post(f"/api/assignments/{assignment.pk}/approve/", {"comment": ""}, format="json")

    assert approved.status_code == 200
    assert codes(approved.json()["warnings"]) == ["empty-right"]
    assert Assignment.objects.get(pk=assignment.pk).status == Assignment.Status.APPROVED


def test_the_review_page_shows_the_warnings_and_asks_before_approving(
    client, client_of_reader, assignment, senior
):
    save(client_of_reader, assignment, left_only(assignment.case))
    client_of_reader.post(f"/api/assignments/{assignment.pk}/submit/")
    client.force_login(senior)

    page = client.get("/reading/review/").content.decode()

    assert 'data-warning="empty-right"' in page
    assert "The right femur VOI is empty." in page
    assert 'value="approve" data-confirm="This VOI needs a second look:' in page
    assert "annotations/confirm.js" in page


def test_the_viewer_of_a_reviewer_shows_the_warnings_by_the_approve_button(
    client, client_of_reader, assignment, senior
):
    save(client_of_reader, assignment, left_only(assignment.case))
    client_of_reader.post(f"/api/assignments/{assignment.pk}/submit/")
    client.force_login(senior)

    page = client.get(f"/reading/assignments/{assignment.pk}/").content.decode()

    assert 'data-warning="empty-right"' in page
    assert 'data-confirm="This VOI needs a second look:' in page
