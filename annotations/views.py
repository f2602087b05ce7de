"""Reading pages: the reader's worklist and viewer, the senior's review, the coordinator's assignment
page and the interobserver agreement page. Thin: they check the role, call a selector or one service,
and render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.permissions import role_required
from accounts.roles import Role
from cases.models import Cohort

from . import selectors, services
from .models import Assignment

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
            "size": assignment.case.size, "spacing": assignment.case.spacing, "direction": assignment.case.direction,
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
    return render(
        request,
        "annotations/coordinate.html",
        {
            "cohorts": cohorts,
            "readers": readers,
            "default_count": services.DEFAULT_INTEROBSERVER_COUNT,
            "progress": [(cohort, selectors.cohort_progress(cohort)) for cohort in cohorts],
        },
    )


def _assignments_create_from_form(request) -> None:
    users = get_user_model().objects
    try:
        created = services.assignments_create_for_cohort(
            cohort=get_object_or_404(Cohort, pk=int(request.POST["cohort"])),
            primary_reader=get_object_or_404(users, pk=int(request.POST["primary_reader"])),
            second_reader=get_object_or_404(users, pk=int(request.POST["second_reader"])),
            created_by=request.user,
            interobserver_count=int(
                request.POST.get("interobserver_count") or services.DEFAULT_INTEROBSERVER_COUNT
            ),
            seed=int(request.POST.get("seed") or 0),
        )
        messages.success(request, f"Created {len(created)} assignments.")
    except (KeyError, ValueError):
        messages.error(request, "Choose a cohort and two readers; the count and the seed are whole numbers.")
    except services.AnnotationError as error:
        messages.error(request, error.message)


@role_required(*ALL_ROLES)
def interobserver(request):
    cohorts = list(
        Cohort.objects.filter(assignments__study_role=Assignment.StudyRole.INTEROBSERVER).distinct()
    )
    cohort_id = request.GET.get("cohort", "")
    cohort = get_object_or_404(Cohort, pk=int(cohort_id)) if cohort_id.isdigit() else None
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
