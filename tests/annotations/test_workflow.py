"""Assigning a cohort's reading, reviewing submitted VOIs, and the agreement job and page."""

import numpy as np
import pytest

from annotations import services
from annotations.models import AgreementResult, Assignment, ReferenceVOI
from cases.models import Cohort, Exclusion, Split, SplitMembership

from reading_helpers import labelmap_for, painted, raw_upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def cohort_with_split(make_case):
    """Ten cases: six in training (one of them excluded), two validation, two test."""
    cases = [make_case(size=(16, 16, 16)) for _ in range(10)]
    cohort = Cohort.objects.create(name="Study")
    cohort.cases.set(cases)
    split = Split.objects.create(cohort=cohort, version=1, seed=1)
    subsets = ["training"] * 6 + ["validation"] * 2 + ["test"] * 2
    SplitMembership.objects.bulk_create(
        SplitMembership(split=split, case=case, subset=subset)
        for case, subset in zip(cases, subsets, strict=True)
    )
    Exclusion.objects.create(case=cases[0], reason=Exclusion.Reason.HIP_FRACTURE)
    return cohort, cases


def create(cohort, reader, reader2, coordinator, **kw):
    return services.assignments_create_for_cohort(
        cohort=cohort, primary_reader=reader, second_reader=reader2, created_by=coordinator, **kw
    )


def test_the_interobserver_set_is_a_seeded_sample_of_training_cases_for_both_readers(
    cohort_with_split, reader, reader2, coordinator
):
    cohort, cases = cohort_with_split
    training = {c.pk for c in cases[1:6]}  # the first training case is excluded

    created = create(cohort, reader, reader2, coordinator, interobserver_count=3, seed=7)

    both = [a for a in created if a.study_role == Assignment.StudyRole.INTEROBSERVER]
    shared = {a.case_id for a in both}
    assert len(shared) == 3 and shared <= training
    assert sorted(a.reader_id for a in both) == sorted([reader.pk, reader2.pk] * 3)
    primary_only = {a.case_id for a in created if a.study_role == Assignment.StudyRole.PRIMARY}
    assert primary_only == {c.pk for c in cases[1:]} - shared
    assert all(a.reader_id == reader.pk for a in created if a.study_role == Assignment.StudyRole.PRIMARY)
    assert cases[0].pk not in shared | primary_only
    plan = services.assignment_plan(cohort=cohort, split=Split.objects.get(), interobserver_count=3, seed=7)
    assert set(plan.interobserver_case_ids) == shared


def test_it_refuses_an_interobserver_set_larger_than_the_training_split(
    cohort_with_split, reader, reader2, coordinator
):
    cohort, _ = cohort_with_split

    with pytest.raises(services.AnnotationError, match="needs 6 training cases but"):
        create(cohort, reader, reader2, coordinator, interobserver_count=6)
    assert Assignment.objects.count() == 0


def test_it_refuses_one_reader_twice_and_a_cohort_assigned_twice(
    cohort_with_split, reader, reader2, coordinator
):
    cohort, _ = cohort_with_split
    with pytest.raises(services.AnnotationError, match="two different readers"):
        create(cohort, reader, reader, coordinator, interobserver_count=1)
    create(cohort, reader, reader2, coordinator, interobserver_count=1)
    with pytest.raises(services.AnnotationError, match="already assigned"):
        create(cohort, reader, reader2, coordinator, interobserver_count=1)


def test_the_coordinator_page_creates_the_reading(client, cohort_with_split, reader, reader2, coordinator):
    cohort, _ = cohort_with_split
    client.force_login(coordinator)

    response = client.post(
        "/reading/cohorts/",
        {
            "cohort": cohort.pk,
            "primary_reader": reader.pk,
            "second_reader": reader2.pk,
            "interobserver_count": 2,
        },
    )

    assert response.status_code == 302
    assert Assignment.objects.filter(study_role="interobserver").count() == 4
    page = client.get("/reading/cohorts/").content.decode()
    assert "reader2" in page and "Study" in page


def save_and_submit(assignment, labels):
    upload = raw_upload(labels)
    services.revision_save(
        assignment=assignment,
        user=assignment.reader,
        content=upload.read(),
        filename=upload.name,
        base_revision_id=assignment.current_revision_id,
    )
    assignment.refresh_from_db()
    return services.assignment_submit(assignment=assignment, user=assignment.reader)


def test_approval_makes_the_voi_the_case_reference(make_assignment, reader, senior):
    assignment = make_assignment(reader=reader)
    save_and_submit(assignment, painted(assignment.case, left=4))

    services.review_approve(assignment=assignment, reviewer=senior, comment="Good.")

    assignment.refresh_from_db()
    reference = ReferenceVOI.objects.get(is_current=True)
    assert assignment.status == Assignment.Status.APPROVED
    assert (reference.case_id, reference.revision_id) == (assignment.case_id, assignment.current_revision_id)
    assert reference.review.comment == "Good."


def test_a_second_approval_moves_the_current_reference_and_keeps_history(
    make_case, make_assignment, reader, reader2, senior
):
    case = make_case()
    first = make_assignment(reader=reader, case=case, study_role="interobserver")
    second = make_assignment(reader=reader2, case=case, study_role="interobserver")
    save_and_submit(first, painted(case, left=4))
    save_and_submit(second, painted(case, left=6))

    services.review_approve(assignment=first, reviewer=senior)
    services.review_approve(assignment=second, reviewer=senior)

    references = ReferenceVOI.objects.filter(case=case)
    second.refresh_from_db()
    assert references.count() == 2
    assert references.get(is_current=True).revision_id == second.current_revision_id


def test_a_returned_voi_needs_a_comment_and_goes_back_to_its_reader(
    api_client, make_assignment, reader, senior
):
    assignment = make_assignment(reader=reader)
    save_and_submit(assignment, painted(assignment.case))
    api_client.force_authenticate(senior)

    without = api_client.post(f"/api/assignments/{assignment.pk}/return/", {"comment": "  "})
    returned = api_client.post(
        f"/api/assignments/{assignment.pk}/return/", {"comment": "Cut at the trochanter."}
    )

    assert without.status_code == 400
    assert returned.status_code == 200 and returned.json()["status"] == "returned"
    assignment.refresh_from_db()
    assert assignment.is_editable
    api_client.force_authenticate(reader)
    resave = api_client.post(
        f"/api/assignments/{assignment.pk}/revisions/",
        {
            "base_revision": str(assignment.current_revision_id),
            "labelmap": raw_upload(painted(assignment.case)),
        },
        format="multipart",
    )
    assert resave.status_code == 201


def test_a_senior_cannot_review_their_own_voi(make_assignment, senior):
    assignment = make_assignment(reader=senior)
    save_and_submit(assignment, painted(assignment.case))

    with pytest.raises(services.AnnotationError):
        services.review_approve(assignment=assignment, reviewer=senior)


def sphere_labels(case, *, centre_xyz, radius_mm, label=1):
    labels = labelmap_for(case)
    z, y, x = np.ogrid[: labels.shape[0], : labels.shape[1], : labels.shape[2]]
    (sx, sy, sz), (cx, cy, cz) = case.spacing, centre_xyz
    labels[((x * sx - cx) ** 2 + (y * sy - cy) ** 2 + (z * sz - cz) ** 2) <= radius_mm**2] = label
    return labels


def test_the_agreement_job_stores_what_the_metrics_say(
    make_case, make_assignment, reader, reader2, django_capture_on_commit_callbacks
):
    from voi.metrics import voi_agreement

    case = make_case(size=(40, 40, 30))
    first = make_assignment(reader=reader, case=case, study_role="interobserver")
    second = make_assignment(reader=reader2, case=case, study_role="interobserver")
    first_labels = sphere_labels(case, centre_xyz=(30.0, 30.0, 30.0), radius_mm=12.0)
    second_labels = sphere_labels(case, centre_xyz=(33.0, 30.0, 30.0), radius_mm=12.0)
    save_and_submit(first, first_labels)
    with django_capture_on_commit_callbacks(execute=True):
        save_and_submit(second, second_labels)

    stored = AgreementResult.objects.get()
    expected = voi_agreement(first=first_labels, second=second_labels, spacing_xyz=case.spacing).overall
    assert stored.dice_overall == pytest.approx(expected.dice)
    assert stored.hd95_mm == pytest.approx(expected.hd95_mm)
    assert stored.assd_mm == pytest.approx(expected.assd_mm)
    assert stored.volume_difference_cm3 == pytest.approx(expected.volume_difference_cm3)
    first.refresh_from_db()
    assert stored.first_revision_id == first.current_revision_id


def test_the_interobserver_page_flags_cases_below_the_threshold(
    client, make_case, make_assignment, reader, reader2, coordinator, django_capture_on_commit_callbacks
):
    for overlap in (10, 3):  # Dice 1.0 and Dice 2*3/(10+3) = 0.46
        case = make_case()
        first = make_assignment(reader=reader, case=case, study_role="interobserver")
        second = make_assignment(reader=reader2, case=case, study_role="interobserver")
        save_and_submit(first, painted(case, left=10))
        with django_capture_on_commit_callbacks(execute=True):
            save_and_submit(second, painted(case, left=overlap))
    client.force_login(coordinator)

    page = client.get("/reading/interobserver/").content.decode()
    api = client.get("/api/agreement/?threshold=0.95").json()

    assert api["count"] == 2
    assert api["mean_dice"] == pytest.approx((1.0 + 6 / 13) / 2)
    assert len(api["flagged_case_ids"]) == 1
    assert page.count('class="flagged"') == 1
    assert "<svg" in page and "±" in page
