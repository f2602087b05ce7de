"""Blinding: until both readers of an interobserver case have submitted, neither sees the other's VOI,
through any endpoint or page; afterwards agreement is computed and both may see it."""

import pytest

from annotations.models import AgreementResult

from reading_helpers import painted, raw_upload

pytestmark = pytest.mark.django_db

# Every endpoint and page that can reveal a mask (or the case a mask is drawn on), with its method.
MASK_ENDPOINTS = [
    ("get", "/api/assignments/{a}/revisions/"),
    ("get", "/api/assignments/{a}/labelmap/?revision=current"),
    ("get", "/api/assignments/{a}/labelmap/?revision={r}"),
    ("get", "/api/assignments/{a}/labelmap/?revision=start"),
    ("get", "/api/assignments/{a}/volume/"),
    ("get", "/api/assignments/{a}/volume.raw"),
    ("post", "/api/assignments/{a}/revisions/{r}/restore/"),
    ("get", "/reading/assignments/{a}/"),
]


@pytest.fixture
def interobserver_case(make_case, make_assignment, reader, reader2):
    """One case read by both readers; each has saved one revision."""
    case = make_case()
    first = make_assignment(reader=reader, case=case, study_role="interobserver")
    second = make_assignment(reader=reader2, case=case, study_role="interobserver")
    for assignment in (first, second):
        revision_save(assignment, left=10 if assignment is first else 12)
    return first, second


def revision_save(assignment, *, left):
    from annotations.services import revision_save as save

    labels = painted(assignment.case, left=left)
    upload = raw_upload(labels)
    return save(
        assignment=assignment,
        user=assignment.reader,
        content=upload.read(),
        filename=upload.name,
        base_revision_id=assignment.current_revision_id,
    )


def submit(assignment):
    from annotations.services import assignment_submit

    assignment.refresh_from_db()
    return assignment_submit(assignment=assignment, user=assignment.reader)


def request(client, method, template, assignment):
    assignment.refresh_from_db()
    url = template.format(a=assignment.pk, r=assignment.current_revision_id)
    return getattr(client, method)(url)


@pytest.mark.parametrize(("method", "template"), MASK_ENDPOINTS)
def test_a_reader_cannot_reach_the_other_readers_voi_before_both_submitted(
    client, interobserver_case, reader2, method, template
):
    first, _ = interobserver_case
    client.force_login(reader2)

    assert request(client, method, template, first).status_code == 404
    submit(first)  # one reader has submitted: still blinded
    assert request(client, method, template, first).status_code == 404


def test_a_reader_cannot_save_into_the_other_readers_assignment(api_client, interobserver_case, reader2):
    first, _ = interobserver_case
    api_client.force_authenticate(reader2)

    response = api_client.post(
        f"/api/assignments/{first.pk}/revisions/",
        {"base_revision": str(first.current_revision_id), "labelmap": raw_upload(painted(first.case))},
        format="multipart",
    )

    assert response.status_code == 404
    assert api_client.post(f"/api/assignments/{first.pk}/submit/").status_code == 404


def test_a_reader_cannot_fetch_the_other_readers_revision_through_their_own_assignment(
    api_client, interobserver_case, reader2
):
    first, second = interobserver_case
    first.refresh_from_db()
    api_client.force_authenticate(reader2)

    response = api_client.get(f"/api/assignments/{second.pk}/labelmap/?revision={first.current_revision_id}")
    restore = api_client.post(f"/api/assignments/{second.pk}/revisions/{first.current_revision_id}/restore/")

    assert response.status_code == 404
    assert restore.status_code == 404


def test_the_assignment_list_shows_only_the_callers_own(api_client, interobserver_case, reader2):
    _, second = interobserver_case
    api_client.force_authenticate(reader2)

    listed = api_client.get("/api/assignments/").json()

    assert [a["id"] for a in listed] == [second.pk]


def test_no_agreement_is_visible_before_both_submitted(api_client, interobserver_case, reader2):
    first, _ = interobserver_case
    submit(first)
    api_client.force_authenticate(reader2)

    assert api_client.get("/api/agreement/").json()["results"] == []
    assert AgreementResult.objects.count() == 0


def test_when_both_submitted_agreement_is_computed_and_shared(
    api_client, interobserver_case, reader2, django_capture_on_commit_callbacks
):
    first, second = interobserver_case
    submit(first)
    with django_capture_on_commit_callbacks(execute=True):
        submit(second)
    api_client.force_authenticate(reader2)

    agreement = api_client.get(f"/api/agreement/?cohort={first.cohort_id}").json()

    # 10 and 12 voxels of label 1 in the same place: Dice = 2 * 10 / 22.
    assert agreement["count"] == 1
    assert agreement["results"][0]["dice"]["1"] == pytest.approx(20 / 22)
    assert agreement["results"][0]["dice"]["2"] is None


def test_after_both_submitted_a_senior_reader_may_see_either_voi(client, interobserver_case, senior):
    first, second = interobserver_case
    client.force_login(senior)
    assert client.get(f"/api/assignments/{first.pk}/revisions/").status_code == 404

    submit(first)
    submit(second)

    for assignment in (first, second):
        assert client.get(f"/api/assignments/{assignment.pk}/revisions/").status_code == 200


def test_a_senior_who_reads_the_same_case_stays_blinded_until_their_own_submission(
    client, make_case, make_assignment, reader, senior
):
    case = make_case()
    juniors = make_assignment(reader=reader, case=case, study_role="interobserver")
    seniors = make_assignment(reader=senior, case=case, study_role="interobserver")
    revision_save(juniors, left=5)
    revision_save(seniors, left=5)
    submit(juniors)
    client.force_login(senior)

    assert client.get(f"/api/assignments/{juniors.pk}/revisions/").status_code == 404
    submit(seniors)
    assert client.get(f"/api/assignments/{juniors.pk}/revisions/").status_code == 200


@pytest.mark.parametrize(("method", "template"), MASK_ENDPOINTS)
def test_a_coordinator_sees_the_status_but_never_a_mask(
    client, interobserver_case, coordinator, method, template
):
    first, second = interobserver_case
    submit(first)
    submit(second)
    client.force_login(coordinator)

    assert client.get(f"/api/assignments/?cohort={first.cohort_id}").status_code == 200
    assert request(client, method, template, first).status_code == 403
