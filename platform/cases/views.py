from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render

from accounts.permissions import STAFF_ROLES, role_required, sees_reference_standard
from accounts.roles import Role
from osteoscreen.parsing import query_id_or_404

from .bone_status import CLASSES
from .models import Cohort, Exclusion, SplitMembership
from .selectors import cases_visible_to, cohort_flow, current_split


@role_required(Role.READER, *STAFF_ROLES)
def case_list(request):
    cases = cases_visible_to(request.user).order_by("pk")
    # A blinded reader cannot filter by the reference standard: the count would tell it.
    names = ("status", "cohort", "subset", "bone_status") if sees_reference_standard(request.user) else ("cohort",)
    filters = {k: request.GET.get(k, "") if k in names else "" for k in ("status", "cohort", "subset", "bone_status")}
    if filters["status"] == "excluded":
        cases = cases.filter(exclusions__isnull=False)
    elif filters["status"] == "included":
        cases = cases.filter(exclusions__isnull=True)
    cohort_id = query_id_or_404(request.GET, "cohort")
    if cohort_id is not None:
        cases = cases.filter(cohorts__id=cohort_id)
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
    if not sees_reference_standard(request.user):
        return render(request, "cases/detail.html", {"case": case})
    return render(request, "cases/detail.html", {
        "case": case, "qct": getattr(case, "qct", None), "exclusions": case.exclusions.all(),
        "memberships": case.split_memberships.select_related("split__cohort"),
        "reasons": Exclusion.Reason.choices,
    })


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
