"""The model pages under /models/: versions per family (status, metrics, lineage, files), promotion, and
the forms that start training and segmentation jobs with their live progress and loss/Dice chart. PIs,
coordinators and admins; readers get 403. (The overlay of a predicted mask is inference.predictions.views.)"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.permissions import role_required
from accounts.roles import Role, has_role
from cases.file_responses import stored_file_response
from cases.models import Cohort
from inference import selectors
from inference.errors import InvalidRequest, ModelsError
from inference.kinds import MODEL_JOB_KINDS, SEGMENTATION_TRAIN_JOB
from inference.models import ModelFile, ModelVersion, SegmentationPrediction
from inference.training import classifier, segmentation
from inference.training.versions import model_version_promote, model_version_retire
from jobs.models import Job
from jobs.selectors import jobs_visible_to
from osteoscreen.parsing import InvalidNumber, parse_int, query_id_or_404

VIEWERS = (Role.PI, Role.COORDINATOR, Role.ADMIN)
JOB_STARTERS = (Role.PI, Role.ADMIN)


@role_required(*VIEWERS)
def model_list(request):
    families = [
        {"family": family, "label": label, "versions": selectors.versions_of_family(family)}
        for family, label in ModelVersion.Family.choices
    ]
    jobs = Job.objects.filter(kind__in=MODEL_JOB_KINDS).select_related("owner")[:10]
    return render(
        request,
        "inference/models.html",
        {
            "families": families,
            "cohorts": Cohort.objects.all(),
            "jobs": jobs,
            "may_start": has_role(request.user, *JOB_STARTERS),
            "may_promote": has_role(request.user, Role.PI),
            "active_segmentation": selectors.active_version(ModelVersion.Family.SEGMENTATION),
            "segmentation_training": selectors.training_version(ModelVersion.Family.SEGMENTATION),
            "classifier_training": selectors.training_version(ModelVersion.Family.CLASSIFIER),
        },
    )


@role_required(*VIEWERS)
def version_detail(request, pk: int):
    version = get_object_or_404(ModelVersion.objects.select_related("split__cohort", "parent", "job"), pk=pk)
    segmentations = SegmentationPrediction.objects.filter(model_version=version).select_related(
        "case__patient"
    )
    return render(
        request,
        "inference/version.html",
        {
            "version": version,
            "files": version.files.all(),
            "may_promote": has_role(request.user, Role.PI),
            "segmentations": segmentations.order_by("case_id")[:200],
            "history": version.metrics.get("history", []),
        },
    )


@role_required(*VIEWERS)
def version_file(request, pk: int, role: str):
    """Download one of a version's files (checkpoint, fitted pipeline, feature table CSV)."""
    model_file = get_object_or_404(ModelFile.objects.select_related("version"), version_id=pk, role=role)
    if not model_file.file.name:
        raise Http404("this version's file was never stored")
    name = (
        f"{model_file.version.family}-v{model_file.version.number}-{model_file.file.name.rsplit('/', 1)[-1]}"
    )
    response = stored_file_response(model_file.file, download_name=name)
    response["X-Content-SHA256"] = model_file.sha256
    return response


def _service_call(request, call, success: str):
    try:
        result = call()
    except ModelsError as error:
        messages.error(request, error.message)
        return None
    messages.success(request, success)
    return result


@require_POST
@role_required(Role.PI)
def version_promote(request, pk: int):
    version = get_object_or_404(ModelVersion, pk=pk)
    _service_call(
        request,
        lambda: model_version_promote(version=version, actor=request.user),
        f"{version} is now the active {version.family} model",
    )
    return redirect("inference:version", pk=pk)


@require_POST
@role_required(Role.PI)
def version_retire(request, pk: int):
    version = get_object_or_404(ModelVersion, pk=pk)
    _service_call(
        request, lambda: model_version_retire(version=version, actor=request.user), f"{version} retired"
    )
    return redirect("inference:version", pk=pk)


def _cohort(request) -> Cohort:
    cohort_id = query_id_or_404(request.POST, "cohort")
    if cohort_id is None:
        raise Http404("choose a cohort")
    return get_object_or_404(Cohort, pk=cohort_id)


def _positive_int(value: str | None) -> int | None:
    """The optional epochs field: a positive whole number, or None (the configuration's default)."""
    try:
        return parse_int(value, name="epochs", minimum=1) if value else None
    except InvalidNumber:
        return None


def _randomised_cases(value: str | None) -> int | None:
    """The optional "randomised phantom cases" field: 0-200, or None (the configuration's number)."""
    try:
        return parse_int(value, name="randomised phantom cases", minimum=0, maximum=200) if value else None
    except InvalidNumber as error:
        raise InvalidRequest(str(error)) from error


def _job_started(request, call, what: str):
    job = _service_call(request, call, f"{what} started")
    return redirect("inference:job", pk=job.pk) if job else redirect("inference:models")


@require_POST
@role_required(*JOB_STARTERS)
def segmentation_train(request):
    cohort = _cohort(request)
    return _job_started(
        request,
        lambda: segmentation.segmentation_training_start(
            owner=request.user,
            cohort=cohort,
            config_name=request.POST.get("config_name", "demo"),
            epochs=_positive_int(request.POST.get("epochs")),
            randomised_cases=_randomised_cases(request.POST.get("randomised_cases")),
        ),
        "Retrain segmentation",
    )


@require_POST
@role_required(*JOB_STARTERS)
def segment_cohort(request):
    cohort = _cohort(request)
    return _job_started(
        request,
        lambda: segmentation.segment_cohort_start(owner=request.user, cohort=cohort),
        "Segment cohort",
    )


@require_POST
@role_required(*JOB_STARTERS)
def classifier_train(request):
    cohort = _cohort(request)
    sides = request.POST.getlist("sides") or None
    return _job_started(
        request,
        lambda: classifier.classifier_training_start(
            owner=request.user,
            cohort=cohort,
            mask_source=request.POST.get("mask_source", "auto"),
            sides=sides,
        ),
        "Retrain classifier",
    )


@role_required(*VIEWERS)
def model_job(request, pk: int):
    """One model job: its live progress bar and, for a training, the live loss / validation Dice chart."""
    # Whoever may see the job on /jobs/ may follow it here (coordinators see every job).
    job = get_object_or_404(jobs_visible_to(request.user).filter(kind__in=MODEL_JOB_KINDS), pk=pk)
    return render(
        request,
        "inference/job.html",
        {
            "job": job,
            "versions": ModelVersion.objects.filter(job=job),
            "chart": job.kind == SEGMENTATION_TRAIN_JOB,
            "points": job.data.get("loss_curve", []),
        },
    )
