"""Reads of the annotations app, and the one place that decides who may see what.

Visibility, in the study's words:
- A reader sees their own assignments, and their own VOIs.
- A senior reader (a reader in the Django group "senior") also sees submitted VOIs of other readers, to
  review them, except while blinded: a senior who reads the same case in the interobserver set cannot
  see the other reader's VOI until both have submitted.
- Blinding: until both readers of an interobserver case have submitted once, neither sees the other's
  VOI. Nothing in this module hands a reader another reader's revision before that.
- Coordinators, PIs and admins see every assignment's status, never a mask.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import SimpleITK as sitk
from django.db.models import Count, Q, QuerySet

from accounts.roles import Role, has_role
from cases.models import Case, Cohort
from cases.selectors import case_image, case_volume_path
from voi.grid import Grid

from .labelmaps import labels_from_viewer_copy, labels_touching_edge
from .labelstore import START, label_path
from .models import AgreementResult, Assignment, VOIRevision
from .voi_checks import VOIWarning, voi_warnings

# The group accounts.services.user_create_with_role(senior=True) puts a senior reader in.
SENIOR_GROUP = "senior"
STATUS_ROLES = (Role.COORDINATOR, Role.PI, Role.ADMIN)
# The paper's interobserver Dice was 0.989 +/- 0.002; a case below 0.95 is far outside that and worth
# a second look by both readers (adjudication).
DEFAULT_DICE_THRESHOLD = 0.95
SUBMITTED_STATUSES = (Assignment.Status.SUBMITTED, Assignment.Status.APPROVED)


def is_senior_reader(user) -> bool:
    return (
        has_role(user, Role.READER) and user.groups.filter(name=SENIOR_GROUP).exists()  # type: ignore[union-attr]
    )


def case_ids_assigned_to(user) -> QuerySet:
    """Ids of the cases a reader has an assignment for (registered with cases.selectors, which scopes a
    reader's case lists with it)."""
    return Assignment.objects.filter(reader=user).values_list("case_id", flat=True)


def assignments_of_reader(user) -> QuerySet[Assignment]:
    return (
        Assignment.objects.filter(reader=user)
        .select_related("case__patient", "cohort", "current_revision")
        .order_by("id")
    )


def assignments_of_cohort(cohort: Cohort) -> QuerySet[Assignment]:
    return Assignment.objects.filter(cohort=cohort).select_related("case__patient", "reader").order_by("id")


def assignment_visible_to(user, assignment: Assignment) -> bool:
    """Whether the user may know the assignment and its status (not necessarily its masks)."""
    return (
        assignment.reader_id == user.pk
        or has_role(user, *STATUS_ROLES)
        or (is_senior_reader(user) and may_see_masks(user, assignment))
    )


def may_see_masks(user, assignment: Assignment) -> bool:
    """Whether the user may see this assignment's VOI revisions (the blinding rule)."""
    if assignment.reader_id == user.pk:
        return True
    if not is_senior_reader(user) or assignment.first_submitted_at is None:
        return False
    return not _own_reading_still_blinded(user, assignment)


def may_edit(user, assignment: Assignment) -> bool:
    return assignment.reader_id == user.pk and assignment.is_editable


def may_review(user, assignment: Assignment) -> bool:
    return (
        assignment.reader_id != user.pk
        and assignment.status == Assignment.Status.SUBMITTED
        and may_see_masks(user, assignment)
    )


def _own_reading_still_blinded(user, assignment: Assignment) -> bool:
    # A senior who also reads this case has not yet submitted their own VOI: seeing the other reader's
    # would unblind them.
    own = Assignment.objects.filter(case_id=assignment.case_id, reader=user).exclude(pk=assignment.pk)
    return own.filter(first_submitted_at__isnull=True).exists()


def interobserver_partner(assignment: Assignment) -> Assignment | None:
    """The other reader's assignment of an interobserver case, if there is one."""
    if assignment.study_role != Assignment.StudyRole.INTEROBSERVER:
        return None
    return (
        Assignment.objects.filter(case_id=assignment.case_id, study_role=Assignment.StudyRole.INTEROBSERVER)
        .exclude(pk=assignment.pk)
        .first()
    )


def reviews_pending_for(user) -> list[Assignment]:
    """Submitted VOIs a senior reader may review now, oldest submission first."""
    if not is_senior_reader(user):
        return []
    submitted = (
        Assignment.objects.filter(status=Assignment.Status.SUBMITTED)
        .exclude(reader=user)
        .select_related("case__patient", "reader", "cohort", "current_revision")
        .order_by("submitted_at", "id")
    )
    return [a for a in submitted if may_see_masks(user, a)]


def revisions_of(assignment: Assignment) -> QuerySet[VOIRevision]:
    return assignment.revisions.order_by("number")


def revision_of(assignment: Assignment, *, revision_id: int) -> VOIRevision | None:
    """A revision, only if it belongs to this assignment (ids of other readers' revisions reveal nothing)."""
    return assignment.revisions.filter(pk=revision_id).first()


def revision_warnings(revision: VOIRevision | None) -> list[VOIWarning]:
    """The plausibility warnings of a saved VOI (voi_checks.py); none for no revision."""
    if revision is None:
        return []
    return voi_warnings(volume_cm3=revision.volume_cm3, edge_labels=_labels_touching_edge(revision))


def _labels_touching_edge(revision: VOIRevision) -> list[str]:
    if revision.touches_edge is not None:
        return list(revision.touches_edge)
    # Saved before the edge was recorded: read it from the stored labelmap.
    with revision.viewer_labelmap.open("rb") as file:
        labels = labels_from_viewer_copy(file.read(), grid=case_grid(revision.assignment.case))
    return labels_touching_edge(labels)


def case_grid(case: Case) -> Grid:
    return Grid.of(size=case.size, spacing=case.spacing, origin=case.origin, direction=case.direction)


def case_raw_volume_path(case: Case) -> Path:
    """The viewer's copy of the case volume: int16 little-endian, x fastest, cached next to the NIfTI.

    The file name carries the volume's SHA-256, so a replaced volume never serves a stale copy. Written
    once (atomically, by rename) on first use; later requests only open it.
    """
    volume_path = case_volume_path(case)
    raw_path = volume_path.with_name(f"{case.volume_sha256[:16]}.int16.raw")
    if not raw_path.exists():
        _write_raw_volume(case, raw_path)
    return raw_path


def _write_raw_volume(case: Case, raw_path: Path) -> None:
    values = sitk.GetArrayFromImage(case_image(case)).astype("<i2", copy=False)
    partial = raw_path.with_name(f"{raw_path.name}.{id(values)}.partial")
    values.tofile(partial)
    partial.replace(raw_path)


def start_labelmap_path(case: Case) -> Path | None:
    """The viewer's starting labelmap for the case (the active segmentation model's prediction, which
    inference registers in the label store), else None and the reader starts empty."""
    return label_path(case, tag=START)


@dataclass(frozen=True)
class AgreementSummary:
    rows: list[AgreementResult]
    threshold: float
    mean_dice: float | None
    sd_dice: float | None
    flagged: list[AgreementResult]
    metric_means: dict[str, float | None]


def agreement_results(*, cohort: Cohort | None = None, user=None) -> QuerySet[AgreementResult]:
    """The newest agreement per revision pair; a plain reader only sees cases they read."""
    results = AgreementResult.objects.select_related("case__patient", "cohort").order_by(
        "case_id", "-computed_at"
    )
    if cohort is not None:
        results = results.filter(cohort=cohort)
    if user is not None and not (has_role(user, *STATUS_ROLES) or is_senior_reader(user)):
        results = results.filter(case_id__in=case_ids_assigned_to(user))
    return results


def agreement_summary(*, results: QuerySet[AgreementResult], threshold: float = DEFAULT_DICE_THRESHOLD):
    rows = _latest_per_case(results)
    dice = [r.dice_overall for r in rows if r.dice_overall is not None]
    return AgreementSummary(
        rows=rows,
        threshold=threshold,
        mean_dice=statistics.fmean(dice) if dice else None,
        sd_dice=statistics.stdev(dice) if len(dice) > 1 else None,
        flagged=[r for r in rows if r.dice_overall is None or r.dice_overall < threshold],
        metric_means={
            name: _mean([getattr(r, name) for r in rows])
            for name in ("hd95_mm", "assd_mm", "volume_difference_cm3")
        },
    )


def _latest_per_case(results) -> list[AgreementResult]:
    # A case read again (returned, resubmitted) has several results; the newest one counts.
    seen: dict[int, AgreementResult] = {}
    for result in results:
        seen.setdefault(result.case_id, result)
    return list(seen.values())


def _mean(values) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.fmean(present) if present else None


def dice_histogram(
    values: list[float], *, bins: int = 20, low: float | None = None
) -> list[tuple[float, float, int]]:
    """(left edge, right edge, count) per bin, for the distribution plot."""
    if not values:
        return []
    low = min(min(values), 0.9) if low is None else low
    counts, edges = np.histogram(values, bins=bins, range=(low, 1.0))
    return [(float(edges[i]), float(edges[i + 1]), int(counts[i])) for i in range(bins)]


def cohort_progress(cohort: Cohort) -> list[dict]:
    """Per reader: how many assignments are in each status (what coordinators see)."""
    rows = (
        Assignment.objects.filter(cohort=cohort)
        .values("reader__username", "study_role")
        .annotate(
            total=Count("id"),
            **{status: Count("id", filter=Q(status=status)) for status in Assignment.Status.values},
        )
        .order_by("reader__username", "study_role")
    )
    return [dict(row) for row in rows]


def assignments_not_started(*, case: Case | None = None, limit: int = 200) -> QuerySet[Assignment]:
    """Reading that may still move to another reader: nothing drawn yet (of one case, or any)."""
    rows = Assignment.objects.filter(status=Assignment.Status.ASSIGNED, current_revision__isnull=True)
    if case is not None:
        rows = rows.filter(case=case)
    return rows.select_related("case__patient", "reader", "cohort").order_by("cohort__name", "case_id")[
        :limit
    ]


def reader_progress(assignments) -> dict[str, int]:
    counts = {status: 0 for status in Assignment.Status.values}
    for assignment in assignments:
        counts[assignment.status] += 1
    counts["total"] = sum(counts.values())
    counts["done"] = counts[Assignment.Status.SUBMITTED] + counts[Assignment.Status.APPROVED]
    return counts


def next_assignment(assignments) -> Assignment | None:
    """What the reader should do next: returned work first, then work in progress, then new work."""
    order = (Assignment.Status.RETURNED, Assignment.Status.IN_PROGRESS, Assignment.Status.ASSIGNED)
    for status in order:
        for assignment in assignments:
            if assignment.status == status:
                return assignment
    return None
