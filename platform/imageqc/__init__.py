"""Automatic QC of a CT and of a model's proximal-femur mask, per side. Plain Python (numpy, scipy,
SimpleITK), no Django: the cases app runs the image checks on import, the inference app the side checks
in screening, and both store or print the same findings.

- image.py: image-level checks (slice thickness, a femur in the field of view and not cut, metal);
- mask.py: plausibility of a model's mask (volume, one compact piece, head and neck, scan edge, confidence);
- side.py: both joined into one verdict per side: assessable, or not assessable with reasons.
"""

from .flags import IMAGE, SIDE_LABELS, SIDES, QCFlag, by_side
from .image import DEFAULT_MAX_SLICE_THICKNESS_MM, ImageQC, image_qc
from .side import SideQC, sides_qc

__all__ = [
    "IMAGE",
    "SIDE_LABELS",
    "SIDES",
    "QCFlag",
    "by_side",
    "DEFAULT_MAX_SLICE_THICKNESS_MM",
    "ImageQC",
    "image_qc",
    "SideQC",
    "sides_qc",
]
