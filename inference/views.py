"""The model pages under /models/: versions per family (status, metrics, lineage, files), promotion,
the forms that start training and segmentation jobs with their live progress and loss/Dice chart, and the
overlay of a predicted mask on its CT. PIs, coordinators and admins; readers get 403."""

from __future__ import annotations

import io

import numpy as np
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.permissions import role_required
from accounts.roles import Role, has_role
from cases.models import Case, Cohort
from cases.selectors import case_image
from inference import selectors
from inference.models import ModelVersion, SegmentationPrediction
from inference.services import classifier, segmentation
from inference.services.errors import ModelsError
from inference.services.versions import model_version_promote, model_version_retire
from jobs.models import Job
from jobs.selectors import jobs_visible_to

VIEWERS = (Role.PI, Role.COORDINATOR, Role.ADMIN)
JOB_STARTERS = (Role.PI, Role.ADMIN)
MODEL_JOB_KINDS = (segmentation.TRAIN_JOB, segmentation.SEGMENT_COHORT_JOB, classifier.TRAIN_JOB,
                   "models.demo_pipeline")
# The overlay's CT window (HU): bone and soft tissue both readable.
OVERLAY_WINDOW = (-200.0, 1200.0)
OVERLAY_COLOURS = {1: (255, 140, 0), 2: (0, 170, 255)}  # left orange, right blue
OVERLAY_ALPHA = 0.45


@role_required(*VIEWERS)
def model_list(request):
    families = [{"family": family, "label": label, "versions": selectors.versions_of_family(family)}
                for family, label in ModelVersion.Family.choices]
    jobs = Job.objects.filter(kind__in=MODEL_JOB_KINDS).select_related("owner")[:10]
    return render(request, "inference/models.html", {
        "families": families, "cohorts": Cohort.objects.all(), "jobs": jobs,
        "may_start": has_role(request.user, *JOB_STARTERS), "may_promote": has_role(request.user, Role.PI),
        "active_segmentation": selectors.active_version(ModelVersion.Family.SEGMENTATION),
        "segmentation_training": selectors.training_version(ModelVersion.Family.SEGMENTATION),
        "classifier_training": selectors.training_version(ModelVersion.Family.CLASSIFIER),
    })


@role_required(*VIEWERS)
def version_detail(request, pk: int):
    version = get_object_or_404(ModelVersion.objects.select_related("split__cohort", "parent", "job"), pk=pk)
    segmentations = SegmentationPrediction.objects.filter(model_version=version).select_related("case__patient")
    return render(request, "inference/version.html", {
        "version": version, "files": version.files.all(), "may_promote": has_role(request.user, Role.PI),
        "segmentations": segmentations.order_by("case_id")[:200], "history": version.metrics.get("history", []),
    })


@role_required(*VIEWERS)
def version_file(request, pk: int, role: str):
    """Download one of a version's files (checkpoint, fitted pipeline, feature table CSV)."""
    from django.http import FileResponse

    from inference.models import ModelFile

    model_file = get_object_or_404(ModelFile.objects.select_related("version"), version_id=pk, role=role)
    if not model_file.file.name:
        raise Http404("this version's file was never stored")
    name = f"{model_file.version.family}-v{model_file.version.number}-{model_file.file.name.rsplit('/', 1)[-1]}"
    response = FileResponse(model_file.file.open("rb"), as_attachment=True, filename=name)
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
    _service_call(request, lambda: model_version_promote(version=version, actor=request.user),
                  f"{version} is now the active {version.family} model")
    return redirect("inference:version", pk=pk)


@require_POST
@role_required(Role.PI)
def version_retire(request, pk: int):
    version = get_object_or_404(ModelVersion, pk=pk)
    _service_call(request, lambda: model_version_retire(version=version, actor=request.user), f"{version} retired")
    return redirect("inference:version", pk=pk)


def _cohort(request) -> Cohort:
    return get_object_or_404(Cohort, pk=request.POST.get("cohort") or 0)


def _positive_int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and int(value) > 0 else None


def _job_started(request, call, what: str):
    job = _service_call(request, call, f"{what} started")
    return redirect("inference:job", pk=job.pk) if job else redirect("inference:models")


@require_POST
@role_required(*JOB_STARTERS)
def segmentation_train(request):
    cohort = _cohort(request)
    return _job_started(request, lambda: segmentation.segmentation_training_start(
        owner=request.user, cohort=cohort, config_name=request.POST.get("config_name", "demo"),
        epochs=_positive_int(request.POST.get("epochs"))), "Retrain segmentation")


@require_POST
@role_required(*JOB_STARTERS)
def segment_cohort(request):
    cohort = _cohort(request)
    return _job_started(request, lambda: segmentation.segment_cohort_start(owner=request.user, cohort=cohort),
                        "Segment cohort")


@require_POST
@role_required(*JOB_STARTERS)
def classifier_train(request):
    cohort = _cohort(request)
    sides = request.POST.getlist("sides") or None
    return _job_started(request, lambda: classifier.classifier_training_start(
        owner=request.user, cohort=cohort, mask_source=request.POST.get("mask_source", "auto"), sides=sides),
        "Retrain classifier")


@role_required(*VIEWERS)
def model_job(request, pk: int):
    """One model job: its live progress bar and, for a training, the live loss / validation Dice chart."""
    # Whoever may see the job on /jobs/ may follow it here (coordinators see every job).
    job = get_object_or_404(jobs_visible_to(request.user).filter(kind__in=MODEL_JOB_KINDS), pk=pk)
    return render(request, "inference/job.html", {
        "job": job, "versions": ModelVersion.objects.filter(job=job), "chart": job.kind == segmentation.TRAIN_JOB,
        "points": job.data.get("loss_curve", []),
    })


# --- the overlay of a predicted mask on its CT -------------------------------------------------------------

def _visible_segmentation(request, pk: int) -> SegmentationPrediction:
    return get_object_or_404(SegmentationPrediction.objects.select_related("case__patient", "model_version"), pk=pk)


@role_required(*VIEWERS)
def overlay(request, pk: int):
    prediction = _visible_segmentation(request, pk)
    nz = prediction.case.size[2]
    labels = _mask_array(prediction)
    present = np.flatnonzero(labels.any(axis=(1, 2)))
    start = int(present[len(present) // 2]) if present.size else nz // 2
    return render(request, "inference/overlay.html", {"prediction": prediction, "case": prediction.case,
                                                       "slices": nz, "start": start})


@role_required(*VIEWERS)
def overlay_slice(request, pk: int, z: int):
    """One axial slice as PNG: the CT in a bone window with the predicted labels blended in colour."""
    prediction = _visible_segmentation(request, pk)
    if not 0 <= z < prediction.case.size[2]:
        raise Http404("no such slice")
    ct = _ct_slice(prediction.case, z)
    return HttpResponse(_overlay_png(ct, _mask_array(prediction)[z]), content_type="image/png")


def _mask_array(prediction: SegmentationPrediction) -> np.ndarray:
    import SimpleITK as sitk

    return sitk.GetArrayFromImage(sitk.ReadImage(prediction.mask.path))


def _ct_slice(case: Case, z: int) -> np.ndarray:
    import SimpleITK as sitk

    return sitk.GetArrayViewFromImage(case_image(case))[z].astype(np.float32)


def _overlay_png(ct: np.ndarray, labels: np.ndarray) -> bytes:
    from PIL import Image

    low, high = OVERLAY_WINDOW
    grey = np.clip((ct - low) / (high - low) * 255.0, 0, 255)
    rgb = np.repeat(grey[..., None], 3, axis=2)
    for label, colour in OVERLAY_COLOURS.items():
        where = labels == label
        rgb[where] = (1 - OVERLAY_ALPHA) * rgb[where] + OVERLAY_ALPHA * np.array(colour, dtype=np.float32)
    buffer = io.BytesIO()
    Image.fromarray(rgb.astype(np.uint8), mode="RGB").save(buffer, format="PNG")
    return buffer.getvalue()
