"""Reads of the cases app."""

from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import SimpleITK as sitk
from django.db.models import QuerySet

from accounts.roles import Role, has_role

from .bone_status import CLASSES
from .models import Case, Cohort, Exclusion, Split, SplitMembership


def case_volume_path(case: Case) -> Path:
    return Path(case.volume.path)


def case_image(case: Case) -> sitk.Image:
    """The canonical volume (int16 HU, LPS)."""
    return sitk.ReadImage(str(case_volume_path(case)))


# Which cases a reader was given to read is the annotations app's knowledge (its assignments). Cases sits
# below annotations and may not import it, so annotations registers the question here in its
# AppConfig.ready(). Unregistered, a reader sees no case.
_assigned_case_ids: Callable[[Any], Iterable[int]] | None = None


def assigned_case_ids_register(source: Callable[[Any], Iterable[int]]) -> None:
    global _assigned_case_ids
    _assigned_case_ids = source


def cases_visible_to(user) -> QuerySet[Case]:
    """Coordinators, PIs and admins see every case; a reader sees only cases assigned to them."""
    cases = Case.objects.select_related("patient", "qct").prefetch_related("exclusions")
    if has_role(user, Role.COORDINATOR, Role.PI, Role.ADMIN):
        return cases
    if has_role(user, Role.READER):
        if _assigned_case_ids is None:
            return cases.none()
        return cases.filter(pk__in=_assigned_case_ids(user))
    return cases.none()


def current_split(cohort: Cohort) -> Split | None:
    return cohort.splits.filter(current=True).order_by("-version").first()


def split_subsets(split: Split) -> dict[int, str]:
    return dict(split.memberships.values_list("case_id", "subset"))


def cohort_flow(cohort: Cohort, split: Split | None = None) -> dict:
    """The study flow in numbers (the paper's Fig. 1): screened -> excluded by reason -> included ->
    training / validation / test, with class counts at each step. Three flat queries, no model objects,
    so a 10,000-case cohort stays fast."""
    status_of = dict(cohort.cases.values_list("pk", "bone_status"))
    first_reason: dict[int, str] = {}
    for case_id, reason in (
        Exclusion.objects.filter(case__cohorts=cohort).order_by("id").values_list("case_id", "reason")
    ):
        first_reason.setdefault(case_id, reason)  # a case counts once, under its first recorded reason
    excluded_by_reason = Counter(first_reason.values())
    included = [pk for pk in status_of if pk not in first_reason]
    split = split or current_split(cohort)
    subsets = split_subsets(split) if split else {}
    return {
        "screened": len(status_of),
        "excluded": len(first_reason),
        "excluded_by_reason": [
            {"reason": r, "label": Exclusion.Reason(r).label, "count": excluded_by_reason[r]}
            for r in Exclusion.Reason.values
            if excluded_by_reason[r]
        ],
        "included": len(included),
        "included_classes": _class_counts(status_of[pk] for pk in included),
        "split": {"id": split.pk, "version": split.version, "locked": split.locked} if split else None,
        "subsets": [
            {
                "subset": subset,
                "count": len(members),
                "classes": _class_counts(status_of[pk] for pk in members),
            }
            for subset in SplitMembership.Subset.values
            for members in [[pk for pk in included if subsets.get(pk) == subset]]
        ],
    }


def split_preview(cohort: Cohort, assignment: dict[int, str]) -> list[dict]:
    """Counts per subset and class of a split drawn but not stored: what the coordinator checks before
    freezing it."""
    status_of = dict(cohort.cases.values_list("pk", "bone_status"))
    return [
        {"subset": subset, "count": len(members), "classes": _class_counts(status_of[pk] for pk in members)}
        for subset in SplitMembership.Subset.values
        for members in [[pk for pk, s in assignment.items() if s == subset]]
    ]


def _class_counts(statuses: Iterable[str]) -> dict[str, int]:
    counts = Counter(status or "unknown" for status in statuses)
    return {name: counts.get(name, 0) for name in (*CLASSES, "unknown")}
