"""Bone status from QCT T-scores by the ISCD / ACR thresholds (ACR-SPR-SSR practice parameter for QCT,
2018; ISCD official positions): normal T >= -1.0; osteopenia -2.5 < T < -1.0; osteoporosis T <= -2.5.

Which sites count is the study's site rule (settings.BONE_STATUS_SITES; default the lowest of femoral
neck and total hip, as the paper's QCT reports them).
"""

from collections.abc import Iterable, Mapping

NORMAL = "normal"
OSTEOPENIA = "osteopenia"
OSTEOPOROSIS = "osteoporosis"
CLASSES = (NORMAL, OSTEOPENIA, OSTEOPOROSIS)

NORMAL_MIN_T = -1.0
OSTEOPOROSIS_MAX_T = -2.5
QCT_SITES = ("femoral_neck", "trochanter", "intertrochanter", "total_hip")
# T-scores outside this window are implausible for any adult and point to a unit or column error.
T_SCORE_RANGE = (-8.0, 6.0)


def bone_status_from_t(t_score: float) -> str:
    if t_score >= NORMAL_MIN_T:
        return NORMAL
    if t_score <= OSTEOPOROSIS_MAX_T:
        return OSTEOPOROSIS
    return OSTEOPENIA


def bone_status(t_scores: Mapping[str, float | None], sites: Iterable[str]) -> str:
    """The class of the lowest available T-score among `sites`; "" when none of them was measured."""
    values = [t_scores[s] for s in sites if t_scores.get(s) is not None]
    if not values:
        return ""
    return bone_status_from_t(min(v for v in values if v is not None))
