"""Writes of the annotations app: assignments, VOI revisions, submission, review, agreement.

Every user-caused failure is an AnnotationError subclass carrying the HTTP status the APIs answer with,
raised before anything is written (or with what was written removed), so a failed save leaves no row
and no file behind.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass

from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.audit import audit_log
from accounts.roles import Role, grant_role, has_role
from cases.models import Case, Cohort, Split, SplitMembership
from cases.selectors import current_split
from jobs.services import job_start
from osteoscreen.errors import DomainError
from voi.metrics import voi_agreement

from .kinds import AGREEMENT_JOB
from .labelmaps import (
    RAW_SUFFIX,
    LabelBox,
    LabelmapInvalid,
    checked_labelmap_from_upload,
    encode_labelmap,
    label_volumes_cm3,
    label_voxel_counts,
    labelmap_from_nifti_path,
    labels_touching_edge,
)
from .models import AgreementResult, Assignment, ReferenceVOI, Review, VOIRevision
from .selectors import SENIOR_GROUP, case_grid, interobserver_partner, may_review

# The paper's interobserver study: 100 random training patients read by both readers.
DEFAULT_INTEROBSERVER_COUNT = 100
MAX_EDIT_COUNT = 10_000_000
MAX_SECONDS_SPENT = 7 * 24 * 3600.0


class AnnotationError(DomainError):
    """A request the study's rules refuse; `status_code` is the HTTP answer."""


class StaleRevision(AnnotationError):
    status_code = 409


class AssignmentLocked(AnnotationError):
    status_code = 409


class InvalidLabelmap(AnnotationError):
    status_code = 400


class NotAllowed(AnnotationError):
    status_code = 403


# --- assignments --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AssignmentPlan:
    interobserver_case_ids: list[int]
    primary_only_case_ids: list[int]


def assignment_plan(*, cohort: Cohort, split: Split, interobserver_count: int, seed: int) -> AssignmentPlan:
    """Which cases both readers read (a seeded random sample of the training split) and which only one."""
    included = list(cohort.cases.filter(exclusions__isnull=True).order_by("id").values_list("id", flat=True))
    training = sorted(
        SplitMembership.objects.filter(
            split=split, subset=SplitMembership.Subset.TRAINING, case_id__in=included
        ).values_list("case_id", flat=True)
    )
    if interobserver_count < 0 or interobserver_count > len(training):
        raise AnnotationError(
            f"The interobserver set needs {interobserver_count} training cases but the split "
            f"'{split}' has {len(training)} included training cases."
        )
    chosen = sorted(random.Random(seed).sample(training, interobserver_count))
    chosen_set = set(chosen)
    return AssignmentPlan(
        interobserver_case_ids=chosen, primary_only_case_ids=[c for c in included if c not in chosen_set]
    )


@transaction.atomic
def assignments_create_for_cohort(
    *,
    cohort: Cohort,
    primary_reader,
    second_reader,
    created_by,
    interobserver_count: int = DEFAULT_INTEROBSERVER_COUNT,
    seed: int = 0,
    split: Split | None = None,
) -> list[Assignment]:
    """Create the reading of a cohort: the interobserver set to both readers, the rest to the primary."""
    if primary_reader.pk == second_reader.pk:
        raise AnnotationError("The interobserver set needs two different readers.")
    for reader in (primary_reader, second_reader):
        if not has_role(reader, Role.READER):
            raise AnnotationError(f"{reader} is not a reader.")
    if Assignment.objects.filter(cohort=cohort).exists():
        raise AnnotationError(f"Reading for cohort '{cohort}' was already assigned.")
    split = split or current_split(cohort)
    if split is None:
        raise AnnotationError(
            f"Cohort '{cohort}' has no split yet; the interobserver set comes from its training split."
        )
    plan = assignment_plan(cohort=cohort, split=split, interobserver_count=interobserver_count, seed=seed)
    created = [
        *_assignments_create(
            plan.interobserver_case_ids,
            Assignment.StudyRole.INTEROBSERVER,
            readers=(primary_reader, second_reader),
            cohort=cohort,
            created_by=created_by,
        ),
        *_assignments_create(
            plan.primary_only_case_ids,
            Assignment.StudyRole.PRIMARY,
            readers=(primary_reader,),
            cohort=cohort,
            created_by=created_by,
        ),
    ]
    for assignment in created:
        audit_log(actor=created_by, action="create", obj=assignment)
    return created


def _assignments_create(case_ids, study_role, *, readers, cohort, created_by) -> list[Assignment]:
    # The primary reader's assignment is created first, so on an interobserver case it has the lower id:
    # agreement results list the primary reader's VOI first.
    rows = [
        Assignment(
            case_id=case_id, reader=reader, cohort=cohort, study_role=study_role, created_by=created_by
        )
        for case_id in case_ids
        for reader in readers
    ]
    return Assignment.objects.bulk_create(rows)


@transaction.atomic
def assignment_create(
    *, case: Case, reader, cohort: Cohort, created_by, study_role: str = "primary"
) -> Assignment:
    """One assignment (for the demo, tests and the browser test: `assignment_create(case=..., reader=...)`)."""
    if not has_role(reader, Role.READER):
        raise AnnotationError(f"{reader} is not a reader.")
    assignment = Assignment.objects.create(
        case=case, reader=reader, cohort=cohort, study_role=study_role, created_by=created_by
    )
    audit_log(actor=created_by, action="create", obj=assignment)
    return assignment


@transaction.atomic
def assignments_create_for_cases(
    *, cases: list[Case], reader, cohort: Cohort, created_by
) -> list[Assignment]:
    """Primary reading of a selection of cases (or one newly imported case) for one reader. Cases the
    reader already has are left as they are; a case outside the cohort is refused."""
    if not has_role(reader, Role.READER):
        raise AnnotationError(f"{reader} is not a reader.")
    outside = [c for c in cases if not cohort.cases.filter(pk=c.pk).exists()]
    if outside:
        raise AnnotationError(
            f"{outside[0].patient.study_id} is not in cohort '{cohort}'; add it to the cohort first."
        )
    held = set(Assignment.objects.filter(reader=reader, case__in=cases).values_list("case_id", flat=True))
    created = _assignments_create(
        [c.pk for c in cases if c.pk not in held],
        Assignment.StudyRole.PRIMARY,
        readers=(reader,),
        cohort=cohort,
        created_by=created_by,
    )
    for assignment in created:
        audit_log(actor=created_by, action="create", obj=assignment)
    return created


@transaction.atomic
def assignment_reassign(*, assignment: Assignment, reader, actor) -> Assignment:
    """Moves unstarted reading to another reader. Started work stays with its reader: its revisions are
    that reader's drawing, and the blinding of the interobserver set depends on who drew what."""
    assignment = Assignment.objects.select_for_update().get(pk=assignment.pk)
    if not has_role(reader, Role.READER):
        raise AnnotationError(f"{reader} is not a reader.")
    if assignment.status != Assignment.Status.ASSIGNED or assignment.current_revision_id is not None:
        raise AnnotationError("Only reading not started yet can move to another reader.")
    if Assignment.objects.filter(case=assignment.case, reader=reader).exclude(pk=assignment.pk).exists():
        raise AnnotationError(f"{reader} already reads this case.")
    before = assignment.reader.username
    assignment.reader = reader
    assignment.save(update_fields=["reader", "updated_at"])
    audit_log(actor=actor, action="update", obj=assignment, changes={"reader": [before, reader.username]})
    return assignment


def senior_reader_grant(*, user) -> None:
    """Make a reader a senior reader (who may review other readers' submitted VOIs)."""
    grant_role(user, Role.READER)
    group, _ = Group.objects.get_or_create(name=SENIOR_GROUP)
    user.groups.add(group)


# --- revisions ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PreparedLabelmap:
    """A checked labelmap, ready to store: both files' bytes and its voxel counts."""

    nifti_gz: bytes
    viewer_raw_gz: bytes
    voxels: dict[str, int]
    volume_cm3: dict[str, float]
    touches_edge: list[str] | None


def labelmap_prepare(
    *, assignment: Assignment, content: bytes, filename: str, box: LabelBox | None = None
) -> PreparedLabelmap:
    """Check an uploaded labelmap against the case grid and encode what will be stored. Stores nothing.

    Counting and encoding work inside the box that holds every labelled voxel (sent by the viewer, or
    found here), so a save costs what the VOI costs, not what the 512 x 512 x N grid costs."""
    grid = case_grid(assignment.case)
    try:
        checked = checked_labelmap_from_upload(content=content, filename=filename, grid=grid, box=box)
    except LabelmapInvalid as error:
        raise InvalidLabelmap(str(error)) from error
    voxels = label_voxel_counts(checked.labels, box=checked.box)
    encoded = encode_labelmap(checked.labels, grid=grid, box=checked.box)
    return PreparedLabelmap(
        nifti_gz=encoded.nifti_gz,
        viewer_raw_gz=encoded.raw_gz,
        voxels=voxels,
        volume_cm3=label_volumes_cm3(voxels, grid=grid),
        touches_edge=labels_touching_edge(checked.labels),
    )


def revision_save(
    *,
    assignment: Assignment,
    user,
    content: bytes,
    filename: str,
    base_revision_id: int | None,
    edit_count: int = 0,
    seconds_spent: float = 0.0,
    box: LabelBox | None = None,
) -> VOIRevision:
    """Append a revision of the reader's labelmap (`box`: where a ".box.gz" upload lies on the grid).

    The labelmap is checked before any lock is taken (a bad one is refused with 400 and nothing stored);
    then, in one transaction, the base is compared with the current revision (stale -> 409) and the
    revision is written.
    """
    _check_effort(edit_count=edit_count, seconds_spent=seconds_spent)
    _check_may_edit(user=user, assignment=assignment)
    prepared = labelmap_prepare(assignment=assignment, content=content, filename=filename, box=box)
    return _revision_append(
        assignment_id=assignment.pk,
        user=user,
        prepared=prepared,
        base_revision_id=base_revision_id,
        edit_count=edit_count,
        seconds_spent=seconds_spent,
        restored_from=None,
    )


@transaction.atomic
def revision_restore(*, assignment: Assignment, user, revision: VOIRevision) -> VOIRevision:
    """A new revision with the content of an older one; the history stays as it was."""
    _check_may_edit(user=user, assignment=assignment)
    if revision.assignment_id != assignment.pk:
        raise NotAllowed("That revision belongs to another assignment.")
    prepared = PreparedLabelmap(
        nifti_gz=_read_file(revision.labelmap),
        viewer_raw_gz=_read_file(revision.viewer_labelmap),
        voxels=dict(revision.voxels),
        volume_cm3=dict(revision.volume_cm3),
        touches_edge=revision.touches_edge,
    )
    return _revision_append(
        assignment_id=assignment.pk,
        user=user,
        prepared=prepared,
        base_revision_id=Assignment.objects.get(pk=assignment.pk).current_revision_id,
        edit_count=0,
        seconds_spent=0.0,
        restored_from=revision,
    )


@transaction.atomic
def _revision_append(
    *,
    assignment_id: int,
    user,
    prepared: PreparedLabelmap,
    base_revision_id: int | None,
    edit_count: int,
    seconds_spent: float,
    restored_from: VOIRevision | None,
) -> VOIRevision:
    assignment = (
        Assignment.objects.select_for_update(of=("self",))
        .select_related("current_revision")
        .get(pk=assignment_id)
    )
    _check_may_edit(user=user, assignment=assignment)
    _check_base(assignment=assignment, base_revision_id=base_revision_id)
    number = (assignment.current_revision.number if assignment.current_revision else 0) + 1
    revision = VOIRevision(
        assignment=assignment,
        number=number,
        based_on=assignment.current_revision,
        restored_from=restored_from,
        labelmap_sha256=hashlib.sha256(prepared.nifti_gz).hexdigest(),
        voxels=prepared.voxels,
        volume_cm3=prepared.volume_cm3,
        touches_edge=prepared.touches_edge,
        edit_count=edit_count,
        seconds_spent=seconds_spent,
        created_by=user,
    )
    stem = f"assignment-{assignment.pk}-revision-{number}"
    # Files are not transactional: whatever fails after they are written removes them again, so a
    # refused save leaves neither a row nor a file behind.
    try:
        revision.labelmap.save(f"{stem}.nii.gz", ContentFile(prepared.nifti_gz), save=False)
        revision.viewer_labelmap.save(f"{stem}{RAW_SUFFIX}", ContentFile(prepared.viewer_raw_gz), save=False)
        with transaction.atomic():
            revision.save()
            Assignment.objects.filter(pk=assignment.pk).update(
                current_revision=revision,
                status=_status_after_save(assignment.status),
                updated_at=timezone.now(),
            )
    except IntegrityError as error:
        _delete_files(revision)
        raise StaleRevision(
            f"Revision {number} was saved from another window at the same moment; reload."
        ) from error
    except BaseException:
        _delete_files(revision)
        raise
    return revision


def _check_effort(*, edit_count: int, seconds_spent: float) -> None:
    if not 0 <= edit_count <= MAX_EDIT_COUNT:
        raise AnnotationError(f"edit_count must be between 0 and {MAX_EDIT_COUNT}, got {edit_count}.")
    if not 0.0 <= seconds_spent <= MAX_SECONDS_SPENT:
        raise AnnotationError(
            f"seconds_spent must be between 0 and {MAX_SECONDS_SPENT:.0f}, got {seconds_spent}."
        )


def _check_may_edit(*, user, assignment: Assignment) -> None:
    if assignment.reader_id != user.pk:
        raise NotAllowed("Only the assignment's reader can edit its VOI.")
    if not assignment.is_editable:
        raise AssignmentLocked(
            f"This assignment is {assignment.get_status_display().lower()}; its VOI can no longer be edited."
        )


def _check_base(*, assignment: Assignment, base_revision_id: int | None) -> None:
    current = assignment.current_revision
    if (current.pk if current else None) == base_revision_id:
        return
    if current is None:
        raise StaleRevision("There is no revision yet; save with an empty base revision.")
    base = (
        VOIRevision.objects.filter(pk=base_revision_id, assignment=assignment).first()
        if base_revision_id is not None
        else None
    )
    named = f"revision {base.number}" if base else f"an unknown revision ({base_revision_id})"
    raise StaleRevision(
        f"Your revision is based on {named} but revision {current.number} was saved since "
        f"(at {timezone.localtime(current.created_at):%H:%M:%S}). Nothing was overwritten: reload to continue "
        f"from revision {current.number}, or restore yours from the revision list."
    )


def _status_after_save(status: str) -> str:
    return Assignment.Status.IN_PROGRESS if status == Assignment.Status.ASSIGNED else status


def _delete_files(revision: VOIRevision) -> None:
    for field in (revision.labelmap, revision.viewer_labelmap):
        if field.name:
            field.storage.delete(field.name)


def _read_file(field) -> bytes:
    with field.open("rb") as file:
        return file.read()


# --- submission and review ------------------------------------------------------------------------------


@transaction.atomic
def assignment_submit(*, assignment: Assignment, user) -> Assignment:
    """The reader is done: the VOI is locked for review, and agreement is queued when both have read."""
    assignment = Assignment.objects.select_for_update().get(pk=assignment.pk)
    _check_may_edit(user=user, assignment=assignment)
    if assignment.current_revision_id is None:
        raise AnnotationError("There is nothing to submit: save the VOI first.")
    now = timezone.now()
    before = assignment.status
    assignment.status = Assignment.Status.SUBMITTED
    assignment.submitted_at = now
    assignment.first_submitted_at = assignment.first_submitted_at or now
    assignment.save(update_fields=["status", "submitted_at", "first_submitted_at", "updated_at"])
    audit_log(actor=user, action="update", obj=assignment, changes={"status": [before, assignment.status]})
    agreement_queue_if_ready(assignment=assignment, user=user)
    return assignment


@transaction.atomic
def review_approve(*, assignment: Assignment, reviewer, comment: str = "") -> Review:
    """The senior reader approves: the submitted revision becomes the case's current reference VOI."""
    assignment, review = _review_record(
        assignment=assignment, reviewer=reviewer, decision=Review.Decision.APPROVE, comment=comment
    )
    ReferenceVOI.objects.filter(case_id=assignment.case_id, is_current=True).update(is_current=False)
    reference = ReferenceVOI.objects.create(
        case_id=assignment.case_id, revision=review.revision, review=review
    )
    audit_log(actor=reviewer, action="create", obj=reference)
    return review


@transaction.atomic
def review_return(*, assignment: Assignment, reviewer, comment: str) -> Review:
    """The senior reader sends the VOI back to its reader with a comment saying what to change."""
    if not comment.strip():
        raise AnnotationError("Say in a comment what the reader should change.")
    _, review = _review_record(
        assignment=assignment, reviewer=reviewer, decision=Review.Decision.RETURN, comment=comment
    )
    return review


def _review_record(
    *, assignment: Assignment, reviewer, decision: str, comment: str
) -> tuple[Assignment, Review]:
    from .selectors import is_senior_reader

    assignment = Assignment.objects.select_for_update().get(pk=assignment.pk)
    if not is_senior_reader(reviewer):
        raise NotAllowed("Only a senior reader can review a VOI.")
    if not may_review(reviewer, assignment):
        raise AssignmentLocked(
            "This VOI is not waiting for your review (not submitted, your own, or still blinded)."
        )
    if assignment.current_revision_id is None:
        raise AssignmentLocked("This assignment has no saved VOI to review.")
    review = Review.objects.create(
        assignment=assignment,
        revision_id=assignment.current_revision_id,
        reviewer=reviewer,
        decision=decision,
        comment=comment.strip(),
    )
    before = assignment.status
    assignment.status = (
        Assignment.Status.APPROVED if decision == Review.Decision.APPROVE else Assignment.Status.RETURNED
    )
    assignment.save(update_fields=["status", "updated_at"])
    audit_log(
        actor=reviewer, action="update", obj=assignment, changes={"status": [before, assignment.status]}
    )
    return assignment, review


# --- agreement ----------------------------------------------------------------------------------------


def agreement_queue_if_ready(*, assignment: Assignment, user):
    """Queue the agreement job when both readers of an interobserver case have a submitted VOI."""
    partner = interobserver_partner(assignment)
    if partner is None or partner.status not in (Assignment.Status.SUBMITTED, Assignment.Status.APPROVED):
        return None
    first, second = sorted((assignment, partner), key=lambda a: a.pk)
    return job_start(
        kind=AGREEMENT_JOB,
        owner=user,
        params={
            "first_revision_id": first.current_revision_id,
            "second_revision_id": second.current_revision_id,
            "subject": assignment.case.patient.study_id,
        },
    )


@transaction.atomic
def agreement_compute(*, first_revision: VOIRevision, second_revision: VOIRevision) -> AgreementResult:
    """Compare two readers' revisions of one case and store the result (once per pair of revisions)."""
    existing = AgreementResult.objects.filter(
        first_revision=first_revision, second_revision=second_revision
    ).first()
    if existing:
        return existing
    case = first_revision.assignment.case
    if second_revision.assignment.case_id != case.pk:
        raise AnnotationError("Agreement compares two VOIs of the same case.")
    grid = case_grid(case)
    result = voi_agreement(
        first=labelmap_from_nifti_path(first_revision.labelmap.path, grid=grid),
        second=labelmap_from_nifti_path(second_revision.labelmap.path, grid=grid),
        spacing_xyz=grid.spacing_xyz,
    )
    overall = result.overall
    return AgreementResult.objects.create(
        case=case,
        cohort_id=first_revision.assignment.cohort_id,
        first_revision=first_revision,
        second_revision=second_revision,
        dice={**{str(k): v.dice for k, v in result.per_label.items()}, "overall": overall.dice},
        dice_overall=overall.dice,
        hd95_mm=overall.hd95_mm,
        assd_mm=overall.assd_mm,
        volume_difference_cm3=overall.volume_difference_cm3,
        per_label=result.as_dict(),
    )
