from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.permissions import STAFF_ROLES, role_required
from accounts.roles import Role, has_role

from . import services
from .bone_status import CLASSES
from .models import Cohort, Exclusion, QCFinding, SplitMembership
from .selectors import cases_visible_to, cohort_flow, current_split
from .validation import ImportRejected


@role_required(Role.READER, *STAFF_ROLES)
def case_list(request):
    cases = cases_visible_to(request.user).order_by("pk")
    filters = {k: request.GET.get(k, "") for k in ("status", "cohort", "subset", "bone_status")}
    if filters["status"] == "excluded":
        cases = cases.filter(exclusions__isnull=False)
    elif filters["status"] == "included":
        cases = cases.filter(exclusions__isnull=True)
    if filters["cohort"].isdigit():
        cases = cases.filter(cohorts__id=int(filters["cohort"]))
    if filters["subset"] in SplitMembership.Subset.values:
        cases = cases.filter(split_memberships__subset=filters["subset"], split_memberships__split__current=True)
    if filters["bone_status"] in CLASSES:
        cases = cases.filter(bone_status=filters["bone_status"])
    page = Paginator(cases.distinct(), 50).get_page(request.GET.get("page"))
    return render(request, "cases/list.html", {
        "page": page, "filters": filters, "cohorts": Cohort.objects.all(), "classes": CLASSES,
        "subsets": SplitMembership.Subset.values,
    })


@role_required(Role.READER, *STAFF_ROLES)
def case_detail(request, pk: int):
    case = get_object_or_404(cases_visible_to(request.user), pk=pk)
    return render(request, "cases/detail.html", {
        "case": case, "qct": getattr(case, "qct", None), "exclusions": case.exclusions.all(),
        "memberships": case.split_memberships.select_related("split__cohort"),
        "reasons": Exclusion.Reason.choices,
        **_qc_context(request, case),
    })


def _qc_context(request, case) -> dict:
    """The case's automatic QC findings, and whether this user may decide on them (as on exclusions)."""
    return {"qc_findings": case.qc_findings.select_related("decided_by", "exclusion"),
            "can_decide_qc": has_role(request.user, Role.COORDINATOR, Role.ADMIN)}


@require_POST
@role_required(Role.COORDINATOR, Role.ADMIN)
def qc_finding_decide(request, pk: int, decision: str):
    """Confirm a QC finding as an exclusion (with the reason picked in the form) or dismiss it."""
    finding = get_object_or_404(QCFinding, pk=pk)
    try:
        if decision == "confirm":
            services.qc_finding_confirm(finding=finding, actor=request.user, reason=request.POST.get("reason", ""))
        else:
            services.qc_finding_dismiss(finding=finding, actor=request.user)
    except ImportRejected as error:
        messages.error(request, str(error))
        return redirect("cases:detail", pk=finding.case_id, permanent=False)
    return redirect("cases:detail", pk=finding.case_id)


@role_required(*STAFF_ROLES)
def cohort_list(request):
    return render(request, "cases/cohorts.html", {"cohorts": Cohort.objects.all()})


@role_required(*STAFF_ROLES)
def cohort_detail(request, pk: int):
    cohort = get_object_or_404(Cohort, pk=pk)
    split = current_split(cohort)
    return render(request, "cases/cohort.html", {
        "cohort": cohort, "flow": cohort_flow(cohort, split), "split": split, "splits": cohort.splits.all(),
        "classes": CLASSES,
    })
