"""The overlay of a predicted mask on its CT, under /models/segmentations/<id>/overlay/: a page with a
slice slider, and each axial slice as PNG. PIs, coordinators and admins; readers get 403."""

from __future__ import annotations

import io

import numpy as np
import SimpleITK as sitk
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from PIL import Image

from accounts.permissions import role_required
from cases.models import Case
from cases.selectors import case_image
from inference.models import SegmentationPrediction
from inference.training.views import VIEWERS

# The overlay's CT window (HU): bone and soft tissue both readable.
OVERLAY_WINDOW = (-200.0, 1200.0)
OVERLAY_COLOURS = {1: (255, 140, 0), 2: (0, 170, 255)}  # left orange, right blue
OVERLAY_ALPHA = 0.45


def _visible_segmentation(request, pk: int) -> SegmentationPrediction:
    return get_object_or_404(
        SegmentationPrediction.objects.select_related("case__patient", "model_version"), pk=pk
    )


@role_required(*VIEWERS)
def overlay(request, pk: int):
    prediction = _visible_segmentation(request, pk)
    nz = prediction.case.size[2]
    labels = _mask_array(prediction)
    present = np.flatnonzero(labels.any(axis=(1, 2)))
    start = int(present[len(present) // 2]) if present.size else nz // 2
    return render(
        request,
        "inference/overlay.html",
        {"prediction": prediction, "case": prediction.case, "slices": nz, "start": start},
    )


@role_required(*VIEWERS)
def overlay_slice(request, pk: int, z: int):
    """One axial slice as PNG: the CT in a bone window with the predicted labels blended in colour."""
    prediction = _visible_segmentation(request, pk)
    if not 0 <= z < prediction.case.size[2]:
        raise Http404("no such slice")
    ct = _ct_slice(prediction.case, z)
    return HttpResponse(_overlay_png(ct, _mask_array(prediction)[z]), content_type="image/png")


def _mask_array(prediction: SegmentationPrediction) -> np.ndarray:
    return sitk.GetArrayFromImage(sitk.ReadImage(prediction.mask.path))


def _ct_slice(case: Case, z: int) -> np.ndarray:
    return sitk.GetArrayViewFromImage(case_image(case))[z].astype(np.float32)


def _overlay_png(ct: np.ndarray, labels: np.ndarray) -> bytes:
    low, high = OVERLAY_WINDOW
    grey = np.clip((ct - low) / (high - low) * 255.0, 0, 255)
    rgb = np.repeat(grey[..., None], 3, axis=2)
    for label, colour in OVERLAY_COLOURS.items():
        where = labels == label
        rgb[where] = (1 - OVERLAY_ALPHA) * rgb[where] + OVERLAY_ALPHA * np.array(colour, dtype=np.float32)
    buffer = io.BytesIO()
    Image.fromarray(rgb.astype(np.uint8), mode="RGB").save(buffer, format="PNG")
    return buffer.getvalue()
