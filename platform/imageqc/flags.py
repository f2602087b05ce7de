"""What a QC finding is: a code a program can act on, the side it concerns, and a reason a person can check.

Sides follow the platform's label contract (0 background, 1 the patient's LEFT proximal femur, +x in LPS;
2 the RIGHT). The names are repeated here, not imported, so this package stays importable by every app.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from voi.labels import SIDES as SIDES_BY_NAME

# The label contract is voi.labels': 1 the patient's left, 2 the right.
SIDE_LABELS = SIDES_BY_NAME
SIDES = tuple(SIDE_LABELS)
IMAGE = ""  # a finding about the whole image (slice thickness), which makes both sides not assessable

# Codes. Each names one check; the reason text carries the measured values.
NO_FEMUR = "no_femur"
FEMUR_CUT = "femur_cut"
METAL = "metal"
THICK_SLICES = "thick_slices"
MASK_VOLUME = "mask_volume"
MASK_FRAGMENTED = "mask_fragmented"
MASK_NO_HEAD_NECK = "mask_no_head_neck"
LOW_CONFIDENCE = "low_confidence"

# The exclusion a coordinator is offered for each finding (the cases app's Exclusion.Reason values); the
# coordinator may pick another one when confirming.
SUGGESTED_EXCLUSION = {
    NO_FEMUR: "incomplete_ct",
    FEMUR_CUT: "incomplete_ct",
    METAL: "hip_replacement",
    THICK_SLICES: "other",
    MASK_VOLUME: "other",
    MASK_FRAGMENTED: "other",
    MASK_NO_HEAD_NECK: "other",
    LOW_CONFIDENCE: "other",
}


@dataclass(frozen=True)
class QCFlag:
    """One reason a side (or the whole image, side "") cannot be assessed."""

    code: str
    side: str
    reason: str

    @property
    def suggested_exclusion(self) -> str:
        return SUGGESTED_EXCLUSION[self.code]

    def concerns(self, side: str) -> bool:
        return self.side in (side, IMAGE)

    def as_dict(self) -> dict:
        return {**asdict(self), "suggested_exclusion": self.suggested_exclusion}

    @classmethod
    def from_dict(cls, data: dict) -> QCFlag:
        return cls(code=data["code"], side=data["side"], reason=data["reason"])


def side_of_label(label: int) -> str:
    return {v: k for k, v in SIDE_LABELS.items()}[label]


def by_side(values_by_label: dict[int, float] | None) -> dict[str, float]:
    """{1: v, 2: w} (labels, as the segmentation reports them) -> {"left": v, "right": w}."""
    return {
        side_of_label(label): value
        for label, value in (values_by_label or {}).items()
        if label in SIDE_LABELS.values()
    }
