"""Pages of the cases app: the case list and page, the coordinator's import page, cohorts with their
cases, and split freezing with a preview. Thin: each checks the role, calls a selector or one service,
and renders or redirects with a message."""

import datetime as dt

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.permissions import STAFF_ROLES, role_required, sees_reference_standard
from accounts.roles import Role, has_role
from osteoscreen.parsing import InvalidNumber, ids_of, parse_optional_id, query_id_or_404

from . import services
from .bone_status import CLASSES
from .models import Case, Cohort, Exclusion, QCFinding, SplitMembership
from .selectors import cases_visible_to, cohort_flow, current_split, split_preview
from .validation import ImportRejected

MANAGERS = (Role.COORDINATOR, Role.ADMIN)
CASE_FILTERS = ("status", "cohort", "subset", "bone_status", "study_id", "exam_from", "exam_to")
BLINDED_CASE_FILTERS = ("cohort", "study_id", "exam_from", "exam_to")


def cases_filtered(cases: QuerySet[Case], filters: dict[str, str]) -> QuerySet[Case]:
    """The case list's filters, shared by the list page and "add the cases of a filter" to a cohort."""
    if filters.get("status") == "excluded":
        cases = cases.filter(exclusions__isnull=False)
    elif filters.get("status") == "included":
        cases = cases.filter(exclusions__isnull=True)
    try:
        cohort_id = parse_optional_id(filters.get("cohort"), name="cohort")
    except InvalidNumber:
        return cases.none()
    if cohort_id is not None:
        cases = cases.filter(cohorts__id=cohort_id)
    if filters.get("subset") in SplitMembership.Subset.values:
        cases = cases.filter(
            split_memberships__subset=filters["subset"], split_memberships__split__current=True
        )
    if filters.get("bone_status") in CLASSES:
        cases = cases.filter(bone_status=filters["bone_status"])
    if filters.get("study_id"):
        cases = cases.filter(patient__study_id__icontains=filters["study_id"])
    for key, lookup in (("exam_from", "gte"), ("exam_to", "lte")):
        day = _date_or_none(filters.get(key, ""))
        if day:
            cases = cases.filter(**{f"exam_datetime__date__{lookup}": day})
    return cases.distinct()


def _date_or_none(raw: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(raw.strip()) if raw.strip() else None
    except ValueError:
        return None


@role_required(Role.READER, *STAFF_ROLES)
def case_list(request):
    # A blinded reader cannot filter by the reference standard: the count would tell it.
    names = CASE_FILTERS if sees_reference_standard(request.user) else BLINDED_CASE_FILTERS
    filters = {k: request.GET.get(k, "") if k in names else "" for k in CASE_FILTERS}
    query_id_or_404(request.GET, "cohort")  # a malformed cohort id is a 404 page, not an empty list
    cases = cases_filtered(cases_visible_to(request.user).order_by("pk"), filters)
    page = Paginator(cases, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "cases/list.html",
        {
            "page": page,
            "filters": filters,
            "cohorts": Cohort.objects.all(),
            "classes": CLASSES,
            "subsets": SplitMembership.Subset.values,
            "may_manage": has_role(request.user, *MANAGERS),
        },
    )


@role_required(Role.READER, *STAFF_ROLES)
def case_detail(request, pk: int):
    case = get_object_or_404(cases_visible_to(request.user), pk=pk)
    if not sees_reference_standard(request.user):
        return render(request, "cases/detail.html", {"case": case})
    return render(
        request,
        "cases/detail.html",
        {
            "case": case,
            "qct": getattr(case, "qct", None),
            "exclusions": case.exclusions.all(),
            "memberships": case.split_memberships.select_related("split__cohort"),
            "reasons": Exclusion.Reason.choices,
            "may_manage": has_role(request.user, *MANAGERS),
            "planes": ("axial", "coronal"),
            **_qc_context(request, case),
        },
    )


@require_POST
@role_required(*MANAGERS)
def case_exclusion_add(request, pk: int):
    case = get_object_or_404(Case, pk=pk)
    try:
        exclusion = services.exclusion_add(
            case=case,
            reason=request.POST.get("reason", ""),
            actor=request.user,
            note=request.POST.get("note", "").strip(),
        )
        messages.success(request, f"Recorded the exclusion: {exclusion.get_reason_display()}.")
    except ImportRejected as exc:
        messages.error(request, str(exc))
    return redirect("cases:detail", pk=pk)


@require_POST
@role_required(*MANAGERS)
def case_exclusion_remove(request, pk: int, exclusion_pk: int):
    exclusion = get_object_or_404(Exclusion, pk=exclusion_pk, case_id=pk)
    services.exclusion_remove(exclusion=exclusion, actor=request.user)
    messages.success(
        request, f"Removed the exclusion ({exclusion.get_reason_display()}); the case is counted again."
    )
    return redirect("cases:detail", pk=pk)


@role_required(*MANAGERS)
def import_page(request):
    """Drag and drop of CT files (cases/import.js uploads each to the import API) and the QCT CSV check."""
    return render(request, "cases/import.html", {"cohorts": Cohort.objects.all()})


def _qc_context(request, case) -> dict:
    """The case's automatic QC findings, and whether this user may decide on them (as on exclusions)."""
    return {
        "qc_findings": case.qc_findings.select_related("decided_by", "exclusion"),
        "can_decide_qc": has_role(request.user, Role.COORDINATOR, Role.ADMIN),
    }


@require_POST
@role_required(Role.COORDINATOR, Role.ADMIN)
def qc_finding_decide(request, pk: int, decision: str):
    """Confirm a QC finding as an exclusion (with the reason picked in the form) or dismiss it."""
    finding = get_object_or_404(QCFinding, pk=pk)
    try:
        if decision == "confirm":
            services.qc_finding_confirm(
                finding=finding, actor=request.user, reason=request.POST.get("reason", "")
            )
        else:
            services.qc_finding_dismiss(finding=finding, actor=request.user)
    except ImportRejected as error:
        messages.error(request, str(error))
        return redirect("cases:detail", pk=finding.case_id, permanent=False)
    return redirect("cases:detail", pk=finding.case_id)


@role_required(*STAFF_ROLES)
def cohort_list(request):
    return render(
        request,
        "cases/cohorts.html",
        {
            "cohorts": Cohort.objects.all(),
            "may_manage": has_role(request.user, *MANAGERS),
            "classes": CLASSES,
        },
    )


@require_POST
@role_required(*MANAGERS)
def cohort_create(request):
    filters = {k: request.POST.get(k, "") for k in CASE_FILTERS}
    cases = (
        cases_filtered(Case.objects.all(), filters)
        if request.POST.get("with_filter")
        else Case.objects.none()
    )
    try:
        cohort = services.cohort_create(
            name=request.POST.get("name", "").strip(),
            cases=list(cases),
            description=request.POST.get("description", ""),
            actor=request.user,
        )
    except ImportRejected as exc:
        messages.error(request, str(exc))
        return redirect("cases:cohorts")
    n = cohort.cases.count()
    messages.success(request, f"Created the cohort {cohort.name} with {n} case{'s' if n != 1 else ''}.")
    return redirect("cases:cohort", pk=cohort.pk)


def _split_params(data) -> services.SplitParams:
    """The split form's fields; a cut-off date, when given, decides the test set instead of the fraction."""
    try:
        return services.SplitParams(
            seed=int(data.get("seed") or services.SplitParams.seed),
            test_fraction=float(data.get("test_fraction") or services.SplitParams.test_fraction),
            test_cutoff=_date_or_none(data.get("test_cutoff", "")),
            validation_fraction=float(
                data.get("validation_fraction") or services.SplitParams.validation_fraction
            ),
            stratify=data.get("stratify", "on") == "on",
        )
    except ValueError as exc:
        raise ImportRejected("the seed is a whole number and the fractions are numbers such as 0.3") from exc


@role_required(*STAFF_ROLES)
def cohort_detail(request, pk: int):
    cohort = get_object_or_404(Cohort, pk=pk)
    split = current_split(cohort)
    context = {
        "cohort": cohort,
        "flow": cohort_flow(cohort, split),
        "split": split,
        "splits": cohort.splits.all(),
        "classes": CLASSES,
        "may_manage": has_role(request.user, *MANAGERS),
        "cases": cohort.cases.select_related("patient").prefetch_related("exclusions").order_by("pk"),
        "split_form": request.GET if "preview" in request.GET else {},
        "readers": get_user_model().objects.filter(groups__name=Role.READER.value).order_by("username"),
    }
    if "preview" in request.GET:
        context.update(_preview(cohort, request.GET))
    return render(request, "cases/cohort.html", context)


def _preview(cohort: Cohort, data) -> dict:
    try:
        params = _split_params(data)
    except ImportRejected as exc:
        return {"preview_error": str(exc)}
    cases = services.included_cases(cohort)
    return {"preview": split_preview(cohort, services.split_assign(cases, params)), "preview_params": params}


@require_POST
@role_required(*MANAGERS)
def split_freeze(request, pk: int):
    cohort = get_object_or_404(Cohort, pk=pk)
    try:
        split = services.split_create(cohort=cohort, params=_split_params(request.POST), actor=request.user)
    except ImportRejected as exc:
        messages.error(request, str(exc))
        return redirect("cases:cohort", pk=pk)
    messages.success(request, f"Froze split v{split.version}; it is now the current split of {cohort.name}.")
    return redirect("cases:cohort", pk=pk)


@require_POST
@role_required(*MANAGERS)
def cohort_cases_edit(request, pk: int):
    """Adds the cases of a filter, or removes the selected cases, from a cohort."""
    cohort = get_object_or_404(Cohort, pk=pk)
    if request.POST.get("action") == "remove":
        ids = ids_of(request.POST.getlist("case"))
        cases = list(cohort.cases.filter(pk__in=ids))
        services.cohort_remove_cases(cohort=cohort, cases=cases, actor=request.user)
        verb = "Removed"
    else:
        filters = {k: request.POST.get(k, "") for k in CASE_FILTERS}
        cases = list(cases_filtered(Case.objects.all(), filters).exclude(cohorts=cohort))
        services.cohort_add_cases(cohort=cohort, cases=cases, actor=request.user)
        verb = "Added"
    messages.success(request, f"{verb} {len(cases)} case{'s' if len(cases) != 1 else ''}.")
    return redirect("cases:cohort", pk=pk)
