"""Reads of the cases app."""

from collections import Counter
from pathlib import Path

import SimpleITK as sitk
from django.db.models import Prefetch, QuerySet

from accounts.roles import Role, has_role

from .bone_status import CLASSES
from .models import Case, Cohort, Exclusion, Split, SplitMembership


def case_volume_path(case: Case) -> Path:
    return Path(case.volume.path)


def case_image(case: Case) -> sitk.Image:
    """The canonical volume (int16 HU, LPS)."""
    return sitk.ReadImage(str(case_volume_path(case)))


def cases_visible_to(user) -> QuerySet[Case]:
    """Coordinators, PIs and admins see every case; a reader sees only cases assigned to them."""
    cases = Case.objects.select_related("patient", "qct").prefetch_related("exclusions")
    if has_role(user, Role.COORDINATOR, Role.PI, Role.ADMIN):
        return cases
    if has_role(user, Role.READER):
        try:
            from annotations.selectors import case_ids_assigned_to
        except ImportError:  # the annotations app has not defined assignments yet
            return cases.none()
        return cases.filter(pk__in=case_ids_assigned_to(user))
    return cases.none()


def current_split(cohort: Cohort) -> Split | None:
    return cohort.splits.filter(current=True).order_by("-version").first()


def split_subsets(split: Split) -> dict[int, str]:
    return dict(split.memberships.values_list("case_id", "subset"))


def cohort_flow(cohort: Cohort, split: Split | None = None) -> dict:
    """The study flow in numbers (the paper's Fig. 1): screened -> excluded by reason -> included ->
    training / validation / test, with class counts at each step."""
    cases = list(cohort.cases.prefetch_related(Prefetch("exclusions", queryset=Exclusion.objects.order_by("id"))))
    excluded_by_reason: Counter[str] = Counter()
    included = []
    for case in cases:
        reasons = [e.reason for e in case.exclusions.all()]
        if reasons:
            excluded_by_reason[reasons[0]] += 1  # a case counts once, under its first recorded reason
        else:
            included.append(case)
    split = split or current_split(cohort)
    subsets = split_subsets(split) if split else {}
    flow = {
        "screened": len(cases),
        "excluded": sum(excluded_by_reason.values()),
        "excluded_by_reason": [
            {"reason": r, "label": Exclusion.Reason(r).label, "count": excluded_by_reason[r]}
            for r in Exclusion.Reason.values if excluded_by_reason[r]
        ],
        "included": len(included),
        "included_classes": _class_counts(included),
        "split": {"id": split.pk, "version": split.version, "locked": split.locked} if split else None,
        "subsets": [],
    }
    for subset in SplitMembership.Subset.values:
        members = [c for c in included if subsets.get(c.pk) == subset]
        flow["subsets"].append({"subset": subset, "count": len(members), "classes": _class_counts(members)})
    return flow


def _class_counts(cases: list[Case]) -> dict[str, int]:
    counts = Counter(c.bone_status or "unknown" for c in cases)
    return {name: counts.get(name, 0) for name in (*CLASSES, "unknown")}
