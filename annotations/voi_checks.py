"""Plausibility of a proximal-femur VOI, checked before it is submitted and before it is approved.

A VOI that fails a check may still be right (a patient with one femur replaced by a prosthesis, a scan
that ends mid-femur), so these are warnings the reader or reviewer confirms or goes back to fix, never a
refusal. The viewer, the review page and the API (submit, approve and revision answers) all show the
same list, made here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

# Thresholds set by the study team (issue 14: "a side under 20 cm3 or over 400 cm3"). For scale: an adult
# femoral head alone (45-50 mm across) holds about 50-65 cm3 and the proximal femur VOI, head to below the
# lesser trochanter, one to a few hundred; under 20 cm3 is a fragment, over 400 cm3 has run into the shaft,
# the pelvis or soft tissue.
MIN_SIDE_VOLUME_CM3 = 20.0
MAX_SIDE_VOLUME_CM3 = 400.0

# The label contract: 1 is the patient's left proximal femur, 2 the right.
SIDES = {"1": "left", "2": "right"}


@dataclass(frozen=True)
class VOIWarning:
    code: str  # "empty", "small", "large" or "edge"
    side: str  # "left" or "right"
    message: str

    def as_dict(self) -> dict:
        return asdict(self)


def voi_warnings(*, volume_cm3: dict, edge_labels: list[str] | None) -> list[VOIWarning]:
    """The warnings of one VOI from its volume per label ({"1": cm3, "2": cm3}) and the labels that reach
    the grid's edge (None when unknown)."""
    warnings = [w for label, side in SIDES.items() if (w := _volume_warning(side, volume_cm3.get(label)))]
    for label in edge_labels or []:
        side = SIDES[label]
        warnings.append(
            VOIWarning(
                "edge",
                side,
                f"The {side} femur VOI touches the edge of the volume: the scan may cut the femur off, "
                "or the VOI runs past it.",
            )
        )
    return warnings


def _volume_warning(side: str, cm3: float | None) -> VOIWarning | None:
    cm3 = float(cm3 or 0.0)
    if cm3 == 0:
        return VOIWarning("empty", side, f"The {side} femur VOI is empty.")
    if cm3 < MIN_SIDE_VOLUME_CM3:
        return VOIWarning(
            "small", side, f"The {side} femur VOI is {cm3:.3g} cm³, under {MIN_SIDE_VOLUME_CM3:.0f} cm³."
        )
    if cm3 > MAX_SIDE_VOLUME_CM3:
        return VOIWarning(
            "large", side, f"The {side} femur VOI is {cm3:.4g} cm³, over {MAX_SIDE_VOLUME_CM3:.0f} cm³."
        )
    return None
