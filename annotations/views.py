"""Reading pages: the reader's worklist and viewer, the senior's review, the coordinator's assignment
page and the interobserver agreement page. Thin: they check the role, call a selector or one service,
and render."""

from __future__ import annotations

import math

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.permissions import role_required
from accounts.roles import Role, has_role
from cases.models import Case, Cohort
from cases.selectors import case_image, cases_visible_to
from osteoscreen.parsing import InvalidNumber, id_or_none, ids_of, parse_id, parse_int, query_id_or_404

from . import selectors, services, thumbnails
from .labelmaps import labelmap_from_nifti_path
from .models import Assignment, ReferenceVOI

ALL_ROLES = (Role.READER, Role.COORDINATOR, Role.PI, Role.ADMIN)
# The distribution plot's drawing area in SVG user units.
PLOT_WIDTH, PLOT_HEIGHT, PLOT_MARGIN = 560, 200, 30


@role_required(Role.READER)
def worklist(request):
    assignments = list(selectors.assignments_of_reader(request.user))
    return render(
        request,
        "annotations/worklist.html",
        {
            "assignments": assignments,
            "progress": selectors.reader_progress(assignments),
            "next_assignment": selectors.next_assignment(assignments),
            "is_senior": selectors.is_senior_reader(request.user),
            "pending_reviews": len(selectors.reviews_pending_for(request.user)),
        },
    )


@role_required(Role.READER)
def viewer(request, pk: int):
    assignment = get_object_or_404(
        Assignment.objects.select_related("case__patient", "current_revision"), pk=pk
    )
    if not selectors.assignment_visible_to(request.user, assignment):
        raise Http404("No such assignment.")
    if not selectors.may_see_masks(request.user, assignment):
        raise PermissionDenied("You are blinded to this VOI until both readers have submitted.")
    return render(
        request,
        "annotations/viewer.html",
        {
            "assignment": assignment,
            "case": assignment.case,
            "viewer_config": viewer_config(request, assignment),
            "reviews": assignment.reviews.select_related("reviewer")[:5],
            "may_review": selectors.may_review(request.user, assignment),
            "voi_warnings": selectors.revision_warnings(assignment.current_revision),
        },
    )


def viewer_config(request, assignment: Assignment) -> dict:
    """The JSON the viewer bundle reads from the page (see the viewer <-> server contract)."""
    pk = assignment.pk
    return {
        "assignmentId": pk,
        "caseId": assignment.case_id,
        "studyId": assignment.case.patient.study_id,
        "csrfToken": get_token(request),
        "urls": {
            "volumeMeta": reverse("api-assignment-volume", args=[pk]),
            "volumeRaw": reverse("api-assignment-volume-raw", args=[pk]),
            "labelmap": reverse("api-assignment-labelmap", args=[pk]),
            "revisions": reverse("api-assignment-revisions", args=[pk]),
            "submit": reverse("api-assignment-submit", args=[pk]),
        },
        # The grid, so that the page can fetch and draw its opening slice before anything else answers.
        "volume": {
            "size": assignment.case.size,
            "spacing": assignment.case.spacing,
            "direction": assignment.case.direction,
        },
        "currentRevisionId": assignment.current_revision_id,
        "readOnly": not selectors.may_edit(request.user, assignment),
    }


@role_required(Role.READER)
def review_list(request):
    if not selectors.is_senior_reader(request.user):
        raise PermissionDenied("Only a senior reader reviews VOIs.")
    pending = [
        (assignment, selectors.revision_warnings(assignment.current_revision))
        for assignment in selectors.reviews_pending_for(request.user)
    ]
    return render(request, "annotations/review.html", {"pending": pending})


@require_POST
@role_required(Role.READER)
def review_decide(request, pk: int):
    assignment = get_object_or_404(Assignment, pk=pk)
    decision, comment = request.POST.get("decision"), request.POST.get("comment", "")
    try:
        if decision == "approve":
            services.review_approve(assignment=assignment, reviewer=request.user, comment=comment)
            messages.success(request, f"Approved: it is now the reference VOI of case {assignment.case_id}.")
        elif decision == "return":
            services.review_return(assignment=assignment, reviewer=request.user, comment=comment)
            messages.success(request, "Returned to the reader with your comment.")
        else:
            messages.error(request, "Choose approve or return.")
    except services.AnnotationError as error:
        messages.error(request, error.message)
    return redirect("annotations:review")


@role_required(Role.COORDINATOR, Role.ADMIN)
def coordinate(request):
    if request.method == "POST":
        _assignments_create_from_form(request)
        return redirect("annotations:coordinate")
    readers = get_user_model().objects.filter(groups__name=Role.READER.value).order_by("username")
    cohorts = list(Cohort.objects.all())
    case_query = request.GET.get("case", "").strip()
    case = _case_named(case_query)
    return render(
        request,
        "annotations/coordinate.html",
        {
            "cohorts": cohorts,
            "readers": readers,
            "default_count": services.DEFAULT_INTEROBSERVER_COUNT,
            "progress": [(cohort, selectors.cohort_progress(cohort)) for cohort in cohorts],
            "case": case,
            "case_query": case_query,
            "case_cohorts": list(case.cohorts.all()) if case else [],
            "movable": selectors.assignments_not_started(case=case),
        },
    )


def _case_named(name: str) -> Case | None:
    """A case by its study id (what coordinators read) or its number (what links carry)."""
    if not name:
        return None
    cases = Case.objects.select_related("patient")
    number = id_or_none(name)
    found = cases.filter(pk=number).first() if number is not None else None
    return found or cases.filter(patient__study_id__iexact=name).order_by("pk").first()


@require_POST
@role_required(Role.COORDINATOR, Role.ADMIN)
def assign_cases(request):
    """Primary reading of a selection of cases (the cohort page) or of one case (the case page)."""
    ids = ids_of(request.POST.getlist("case"))
    cohort = Cohort.objects.filter(pk=id_or_none(request.POST.get("cohort"))).first()
    reader = get_user_model().objects.filter(pk=id_or_none(request.POST.get("reader"))).first()
    if not ids or cohort is None or reader is None:
        messages.error(request, "Choose at least one case, its cohort and a reader.")
    else:
        try:
            cases = list(Case.objects.select_related("patient").filter(pk__in=ids))
            created = services.assignments_create_for_cases(
                cases=cases, reader=reader, cohort=cohort, created_by=request.user
            )
            kept = len(cases) - len(created)
            messages.success(
                request,
                f"Assigned {_count(len(created), 'case')} to {reader.username}"
                + (f"; {reader.username} already had {_count(kept, 'case')}." if kept else "."),
            )
        except services.AnnotationError as error:
            messages.error(request, error.message)
    return redirect(request.POST.get("next") or reverse("annotations:coordinate"))


@require_POST
@role_required(Role.COORDINATOR, Role.ADMIN)
def reassign(request, pk: int):
    assignment = get_object_or_404(Assignment.objects.select_related("case__patient"), pk=pk)
    reader = get_object_or_404(get_user_model(), pk=id_or_none(request.POST.get("reader")) or 0)
    try:
        services.assignment_reassign(assignment=assignment, reader=reader, actor=request.user)
        messages.success(request, f"{assignment.case.patient.study_id} now goes to {reader.username}.")
    except services.AnnotationError as error:
        messages.error(request, error.message)
    return redirect(request.POST.get("next") or reverse("annotations:coordinate"))


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _assignments_create_from_form(request) -> None:
    users = get_user_model().objects
    try:
        created = services.assignments_create_for_cohort(
            cohort=get_object_or_404(Cohort, pk=parse_id(request.POST["cohort"], name="cohort")),
            primary_reader=get_object_or_404(
                users, pk=parse_id(request.POST["primary_reader"], name="reader")
            ),
            second_reader=get_object_or_404(users, pk=parse_id(request.POST["second_reader"], name="reader")),
            created_by=request.user,
            interobserver_count=parse_int(
                request.POST.get("interobserver_count") or services.DEFAULT_INTEROBSERVER_COUNT,
                name="interobserver_count",
                minimum=0,
            ),
            seed=parse_int(request.POST.get("seed") or 0, name="seed"),
        )
        messages.success(request, f"Created {len(created)} assignments.")
    except (KeyError, InvalidNumber):
        messages.error(request, "Choose a cohort and two readers; the count and the seed are whole numbers.")
    except services.AnnotationError as error:
        messages.error(request, error.message)


@role_required(*ALL_ROLES)
def interobserver(request):
    cohorts = list(
        Cohort.objects.filter(assignments__study_role=Assignment.StudyRole.INTEROBSERVER).distinct()
    )
    cohort_id = query_id_or_404(request.GET, "cohort")
    cohort = get_object_or_404(Cohort, pk=cohort_id) if cohort_id is not None else None
    threshold = _threshold(request.GET.get("threshold"))
    summary = selectors.agreement_summary(
        results=selectors.agreement_results(cohort=cohort, user=request.user), threshold=threshold
    )
    dice = [r.dice_overall for r in summary.rows if r.dice_overall is not None]
    return render(
        request,
        "annotations/interobserver.html",
        {
            "cohorts": cohorts,
            "cohort": cohort,
            "summary": summary,
            "flagged_ids": {r.pk for r in summary.flagged},
            "plot": dice_plot(dice, threshold=threshold),
        },
    )


def _threshold(raw: str | None) -> float:
    try:
        value = float(raw) if raw else selectors.DEFAULT_DICE_THRESHOLD
    except ValueError:
        return selectors.DEFAULT_DICE_THRESHOLD
    if not math.isfinite(value):  # "nan" and "inf" parse as floats but are no threshold
        return selectors.DEFAULT_DICE_THRESHOLD
    return min(max(value, 0.0), 1.0)


def dice_plot(values: list[float], *, threshold: float) -> dict | None:
    """Bars of a Dice histogram in SVG coordinates, with the threshold line."""
    bins = selectors.dice_histogram(values)
    if not bins:
        return None
    low, tallest = bins[0][0], max(count for _, _, count in bins)
    width = (PLOT_WIDTH - 2 * PLOT_MARGIN) / len(bins)

    def x_of(value: float) -> float:
        return PLOT_MARGIN + (value - low) / (1.0 - low) * (PLOT_WIDTH - 2 * PLOT_MARGIN)

    bars = [
        {
            "x": round(PLOT_MARGIN + i * width, 1),
            "width": round(width - 1, 1),
            "height": round(count / tallest * (PLOT_HEIGHT - 2 * PLOT_MARGIN), 1),
            "y": round(PLOT_HEIGHT - PLOT_MARGIN - count / tallest * (PLOT_HEIGHT - 2 * PLOT_MARGIN), 1),
            "count": count,
            "label": f"{left:.3f}-{right:.3f}",
            "below": right <= threshold,
        }
        for i, (left, right, count) in enumerate(bins)
    ]
    return {
        "width": PLOT_WIDTH,
        "height": PLOT_HEIGHT,
        "bars": bars,
        "threshold_x": round(x_of(threshold), 1) if threshold >= low else None,
        "low": low,
        "axis_y": PLOT_HEIGHT - PLOT_MARGIN,
        "axis_right": PLOT_WIDTH - PLOT_MARGIN,
        "margin": PLOT_MARGIN,
    }


@role_required(*ALL_ROLES)
def case_thumbnail(request, pk: int, plane: str):
    """The case page's axial or coronal PNG. A case the user may not see answers 404; the reference VOI
    is drawn only for PIs and admins (coordinators never see masks, readers stay blinded)."""
    if plane not in thumbnails.PLANES:
        raise Http404("No such plane.")
    case = get_object_or_404(cases_visible_to(request.user), pk=pk)
    reference = ReferenceVOI.objects.filter(case=case, is_current=True).select_related("revision").first()
    labels = None
    if reference is not None and has_role(request.user, Role.PI, Role.ADMIN):
        labels = labelmap_from_nifti_path(reference.revision.labelmap.path)
    response = HttpResponse(
        thumbnails.thumbnail_png(case_image(case), labels, plane=plane), content_type="image/png"
    )
    response["Cache-Control"] = "private, max-age=300"
    return response
