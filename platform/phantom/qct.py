"""QCT results of one synthetic patient: class, age, sex, BMD and T-score at the four hip sites.

The class is drawn first so that the cohort's class mix is whatever the caller asks for; age and sex are
then drawn given the patient's latent density, which gives the same joint distribution as "density from
age and sex" while keeping the mix exact. Site T-scores share the latent density (site correlations
about 0.85) and differ by site offsets and measurement noise.
"""

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from . import reference as ref

# Latent femoral density (in T-score units) per class: a normal distribution truncated to the class.
LATENT_BY_CLASS = {
    "normal": (-0.2, 0.8, ref.NORMAL_MIN_T, 2.5),
    "osteopenia": (-1.75, 0.6, ref.OSTEOPOROSIS_MAX_T, ref.NORMAL_MIN_T),
    "osteoporosis": (-3.0, 0.5, -5.0, ref.OSTEOPOROSIS_MAX_T),
}
# Mean site T-score minus femoral-neck T-score in older adults (total hip and trochanteric T-scores run
# higher than the neck's, e.g. NHANES 2005-2010, Looker AC et al. NCHS Data Brief 2012).
SITE_OFFSET_T = {"femoral_neck": 0.0, "trochanter": 0.25, "intertrochanter": 0.3, "total_hip": 0.3}
# Site-specific biology plus QCT precision error; with a cohort latent SD ~1.1 this gives r ~0.87.
SITE_NOISE_T = 0.55
# Fraction of women per class (osteoporosis is commoner in women); overall ~52 % as in the paper.
FEMALE_FRACTION = {"normal": 0.44, "osteopenia": 0.56, "osteoporosis": 0.66}
# Years of age per unit of latent T-score below the cohort mean (bone loss ~1 SD per decade after 60).
AGE_PER_T = 3.5
AGE_SPREAD = 6.5
MAX_REDRAWS = 200


@dataclass(frozen=True)
class QCTResult:
    bone_status: str
    sex: str
    age: int
    latent_t: float
    bmd: Mapping[str, float]
    t_score: Mapping[str, float]


def t_score(site: str, bmd: float) -> float:
    mean, sd = ref.YOUNG_ADULT_REFERENCE[site]
    return (bmd - mean) / sd


def bmd_from_t(site: str, t: float) -> float:
    mean, sd = ref.YOUNG_ADULT_REFERENCE[site]
    return mean + t * sd


def bone_status_from_t_scores(t_scores: Mapping[str, float]) -> str:
    lowest = min(t_scores[s] for s in ref.CLASSIFYING_SITES)
    if lowest >= ref.NORMAL_MIN_T:
        return "normal"
    if lowest <= ref.OSTEOPOROSIS_MAX_T:
        return "osteoporosis"
    return "osteopenia"


def validate_class_mix(mix: Mapping[str, float]) -> dict[str, float]:
    if set(mix) != set(ref.CLASSES):
        raise ValueError(f"class mix needs exactly the classes {ref.CLASSES}, got {sorted(mix)}")
    if any(v < 0 for v in mix.values()) or sum(mix.values()) <= 0:
        raise ValueError("class mix fractions must be non-negative and not all zero")
    total = sum(mix.values())
    return {k: mix[k] / total for k in ref.CLASSES}


def _truncated_normal(rng: np.random.Generator, mean: float, sd: float, low: float, high: float) -> float:
    for _ in range(MAX_REDRAWS):
        value = rng.normal(mean, sd)
        if low <= value <= high:
            return float(value)
    return float(np.clip(mean, low, high))


def _site_measurements(rng: np.random.Generator, latent: float) -> tuple[dict[str, float], dict[str, float]]:
    """BMD rounded as a report prints it (3 decimals) and the T-score (1 decimal) computed from it."""
    t_true = {s: latent + SITE_OFFSET_T[s] + rng.normal(0.0, SITE_NOISE_T) for s in ref.QCT_SITES}
    bmd = {s: round(bmd_from_t(s, t), 3) for s, t in t_true.items()}
    return bmd, {s: round(t_score(s, v), 1) + 0.0 for s, v in bmd.items()}  # + 0.0 turns -0.0 into 0.0


def _age(rng: np.random.Generator, latent: float) -> int:
    age = ref.AGE_MEAN + AGE_PER_T * (-1.2 - latent) + rng.normal(0.0, AGE_SPREAD)
    return int(np.clip(round(age), ref.AGE_MIN, ref.AGE_MAX))


def sample_qct(
    rng: np.random.Generator, *, class_mix: Mapping[str, float] = ref.PAPER_CLASS_MIX
) -> QCTResult:
    """Draw one patient's QCT; the measured class (lowest neck/total-hip T) equals the drawn class."""
    mix = validate_class_mix(class_mix)
    status = str(rng.choice(ref.CLASSES, p=[mix[c] for c in ref.CLASSES]))
    mean, sd, low, high = LATENT_BY_CLASS[status]
    for _ in range(MAX_REDRAWS):
        latent = _truncated_normal(rng, mean, sd, low, high)
        bmd, t_scores = _site_measurements(rng, latent)
        if bone_status_from_t_scores(t_scores) == status:
            break
    sex = "F" if rng.random() < FEMALE_FRACTION[status] else "M"
    return QCTResult(status, sex, _age(rng, latent), latent, bmd, t_scores)
