"""How a case looks, apart from its anatomy and bone status: the "study" appearance of the paper's scanner
and protocol, or a "randomised" one drawn per case so that no intensity, sharpness, noise, resolution or
field of view is a shortcut a segmentation model could learn (domain randomisation: Tobin J et al., IROS
2017; for medical images SynthSeg, Billot B et al., Med Image Anal 2023;86:102789).

Everything random here is drawn from its own stream (not the study's streams), and all of it is drawn
before anything is rendered, so the draws can be checked over many seeds without rendering a volume, and
the "study" appearance makes the same bytes as before this module existed.
"""

from dataclasses import dataclass, field, replace

import numpy as np

from . import reference as ref

APPEARANCES = ("study", "randomised")
APPEARANCE_STREAM = 7_315  # the third seed word of the appearance's random stream (any fixed number)

# Per-tissue CT numbers (HU) covering real CT, unenhanced to contrast-enhanced, 80-140 kVp (Lamba R et al.,
# Abdom Imaging 2014;39:1117-1123 for fat and muscle; trabecular bone of the proximal femur and spine from
# opportunistic-CT series, e.g. Pickhardt PJ et al., Ann Intern Med 2013;158:588-595: L1 ~50-300 HU, the
# femoral neck and intertrochanteric region up to ~400 HU in dense bone; cortex 500-1,800 HU depending on
# thickness, kernel and partial volume, e.g. Treece GM et al., Med Image Anal 2010;14:276-290).
FAT_HU = (-150.0, -50.0)
MUSCLE_HU = (20.0, 70.0)
TRABECULAR_HU = (50.0, 400.0)  # the mean CT number of the medulla (marrow and trabeculae together)
CORTEX_HU = (500.0, 1800.0)
URINE_HU = (0.0, 20.0)
# The CT table: carbon-fibre shells and a foam core differ between vendors (about 100-600 HU and -950 to
# -700 HU as typically seen on CT; the study's is 250 / -850).
TABLE_SHELL_HU = (100.0, 600.0)
TABLE_FOAM_HU = (-950.0, -700.0)
# Marrow and trabecular tissue are solved so that the medulla's mean hits the drawn trabecular mean; these
# bound them to what marrow (fatty to red, Griffith JF et al., Radiology 2005;236:945-951) and a strut
# seen by CT can be.
MARROW_HU = (-150.0, 150.0)
BONE_TISSUE_HU = (500.0, 4000.0)
# Within-tissue spread (HU SD of a slowly varying field): fat and muscle are never one flat value on CT
# (fat stranding, fatty infiltration of muscle, beam hardening, e.g. Goodpaster BH et al., J Appl Physiol
# 2000;89:104-110).
TISSUE_SPREAD_HU = (0.0, 15.0)
# Reconstruction: in-plane FWHM of soft (~2 mm, standard/soft-tissue kernels, iterative) to sharp (~0.6 mm,
# bone kernels) reconstructions, the noise power peak of blotchy iterative (0.08 /mm) to sharp filtered
# back projection (0.35 /mm), and noise SD of standard-dose (~8 HU) to low-dose obese (~60 HU) scans
# (e.g. Solomon J et al., Med Phys 2015;42:4941-4948; Verdun FR et al., Phys Med 2015;31:823-843).
FWHM_MM = (0.6, 2.0)
NPS_PEAK_PER_MM = (0.08, 0.35)
NOISE_SD_HU = (8.0, 60.0)
# Acquisition grid of routine abdominal-pelvic CT: 0.6-5 mm slices and 0.5-1.5 mm pixels.
SLICE_MM = (0.6, 5.0)
PIXEL_MM = (0.5, 1.5)
# Field of view along z: the top anywhere from 10 mm above the femoral heads to 6 cm above the iliac crest
# (drawn as a fraction of that span); the bottom anywhere from 4 cm below the lesser trochanter to 5 mm
# above its lower margin (a scan that stops "at about the lesser trochanter" cuts the VOI's last
# millimetres, as the issue's real scan did).
TOP_ABOVE_HEADS_MM = 10.0
TOP_ABOVE_CREST_MM = 60.0
BOTTOM_BELOW_VOI_MM = (-5.0, 40.0)
# In-plane field of view relative to the body's: a display field smaller than the body cuts its sides
# (truncation), never the femurs (the VOI must stay in view).
FOV_TO_BODY = (0.8, 1.2)
# Body size: subcutaneous fat scaled from a very thin to an obese patient (fat layer 0.4-2.5 times the
# study's draw, i.e. about 5-120 mm).
FAT_SCALE = (0.4, 2.5)
# Arms down at the sides (in the field) in about a quarter of abdominal CTs, e.g. trauma and frail patients.
ARMS_IN_FIELD_PROBABILITY = 0.25
# Contrast: iodinated contrast in the arteries and veins (portal-venous to arterial phase) and positive
# oral contrast in the bowel, each in a share of scans.
VESSEL_CONTRAST_PROBABILITY = 0.5
ARTERY_HU = (150.0, 450.0)
VEIN_HU = (100.0, 250.0)
BOWEL_CONTRAST_PROBABILITY = 0.3
BOWEL_CONTRAST_HU = (150.0, 600.0)
# Metal: a lag screw or nail in one femoral neck (the issue's real scan had one), with streaks.
NAIL_PROBABILITY = 0.15
# Anatomy beyond the study's: neck-shaft angle 110-150 deg (coxa vara to valga), anteversion -5..35 deg
# (retroversion to marked anteversion), head size +/-10 %, joint space 1-6 mm (osteoarthritic narrowing to
# wide), osteophytes in most older patients (Noble PC et al., Clin Orthop 1988;235:148-165; Lequesne M et
# al., Ann Rheum Dis 2004;63:1145-1151).
NECK_SHAFT_ANGLE_DEG = (110.0, 150.0)
ANTEVERSION_DEG = (-5.0, 35.0)
HEAD_SCALE = (0.9, 1.1)
JOINT_SPACE_MM = (1.0, 6.0)
OSTEOPHYTE_BOOST = 0.3  # added to the study's age-driven probability of degenerative change


@dataclass(frozen=True)
class Tissues:
    """CT numbers (HU) of the soft tissues before blur and noise; STUDY_TISSUES gives today's values."""

    fat: float = ref.HU_FAT
    muscle: float = ref.HU_MUSCLE
    urine: float = ref.HU_URINE
    bowel_wall: float = ref.HU_BOWEL_WALL
    table_shell: float = ref.HU_TABLE_SHELL
    table_foam: float = ref.HU_TABLE_FOAM
    fat_spread: float = 0.0
    muscle_spread: float = 0.0


STUDY_TISSUES = Tissues()


@dataclass(frozen=True)
class AnatomyRanges:
    """Ranges the anatomy is drawn from; STUDY_RANGES are the study's (anatomy.py, reference.py)."""

    neck_shaft_deg: tuple[float, float] = ref.NECK_SHAFT_ANGLE_DEG
    anteversion_deg: tuple[float, float] = ref.ANTEVERSION_DEG
    joint_space_mm: tuple[float, float] = (3.0, 4.5)
    head_scale: float = 1.0
    osteophyte_boost: float = 0.0


STUDY_RANGES = AnatomyRanges()


@dataclass(frozen=True)
class Appearance:
    """One case's draw. For the study appearance every field keeps today's behaviour."""

    name: str = "study"
    tissues: Tissues = STUDY_TISSUES
    anatomy: AnatomyRanges = STUDY_RANGES
    trabecular_hu: float | None = None  # the medulla's mean; None: from bone density as in the study
    cortex_hu: float | None = None
    fwhm_mm: float | None = None  # None: the scanner profile's
    nps_peak_per_mm: float | None = None
    noise_sd_hu: float | None = None  # None: from the patient's size and the profile
    slice_mm: float | None = None  # None: the case options'
    pixel_mm: float | None = None  # None: the study's field of view over the matrix
    top_fraction: float | None = None  # None: the region's range; else where the top lies in its span
    bottom_below_voi_mm: float | None = None
    fov_to_body: float | None = None
    fat_scale: float = 1.0
    arms_in_field: bool = False
    artery_hu: float | None = None  # None: no vessel contrast
    vein_hu: float | None = None
    bowel_contrast_hu: float | None = None
    nail: bool = False
    seeds: dict = field(default_factory=dict)

    @property
    def randomised(self) -> bool:
        return self.name == "randomised"


STUDY = Appearance()


def appearance_rng(seed: int, index: int) -> np.random.Generator:
    """The appearance's own stream: drawing from it leaves every study stream untouched."""
    return np.random.default_rng([seed, index, APPEARANCE_STREAM])


def draw_appearance(name: str, rng: np.random.Generator) -> Appearance:
    """The study appearance, or a randomised one drawn from rng within the ranges above."""
    if name not in APPEARANCES:
        raise ValueError(f"appearance must be one of {APPEARANCES}, got {name!r}")
    if name == "study":
        return STUDY
    tissues = _tissues(rng)
    contrast = _contrast(rng)
    if contrast["bowel_contrast_hu"] is not None:  # positive oral contrast fills the loops
        tissues = replace(tissues, bowel_wall=contrast["bowel_contrast_hu"])
    return Appearance(
        name=name,
        tissues=tissues,
        anatomy=AnatomyRanges(
            NECK_SHAFT_ANGLE_DEG,
            ANTEVERSION_DEG,
            JOINT_SPACE_MM,
            float(rng.uniform(*HEAD_SCALE)),
            OSTEOPHYTE_BOOST,
        ),
        trabecular_hu=float(rng.uniform(*TRABECULAR_HU)),
        cortex_hu=float(rng.uniform(*CORTEX_HU)),
        fwhm_mm=float(rng.uniform(*FWHM_MM)),
        nps_peak_per_mm=float(rng.uniform(*NPS_PEAK_PER_MM)),
        noise_sd_hu=float(np.exp(rng.uniform(*np.log(NOISE_SD_HU)))),  # log-uniform: as many clean as noisy
        slice_mm=float(rng.uniform(*SLICE_MM)),
        pixel_mm=float(rng.uniform(*PIXEL_MM)),
        top_fraction=float(rng.uniform(0.0, 1.0)),
        bottom_below_voi_mm=float(rng.uniform(*BOTTOM_BELOW_VOI_MM)),
        fov_to_body=float(rng.uniform(*FOV_TO_BODY)),
        fat_scale=float(rng.uniform(*FAT_SCALE)),
        arms_in_field=bool(rng.random() < ARMS_IN_FIELD_PROBABILITY),
        **contrast,
        nail=bool(rng.random() < NAIL_PROBABILITY),
        seeds={"spread": int(rng.integers(2**31)), "extras": int(rng.integers(2**31))},
    )


def _tissues(rng: np.random.Generator) -> Tissues:
    return Tissues(
        fat=float(rng.uniform(*FAT_HU)),
        muscle=float(rng.uniform(*MUSCLE_HU)),
        urine=float(rng.uniform(*URINE_HU)),
        bowel_wall=float(rng.uniform(*MUSCLE_HU)),
        table_shell=float(rng.uniform(*TABLE_SHELL_HU)),
        table_foam=float(rng.uniform(*TABLE_FOAM_HU)),
        fat_spread=float(rng.uniform(*TISSUE_SPREAD_HU)),
        muscle_spread=float(rng.uniform(*TISSUE_SPREAD_HU)),
    )


def _contrast(rng: np.random.Generator) -> dict:
    vessels = rng.random() < VESSEL_CONTRAST_PROBABILITY
    artery, vein = float(rng.uniform(*ARTERY_HU)), float(rng.uniform(*VEIN_HU))
    bowel = rng.random() < BOWEL_CONTRAST_PROBABILITY
    bowel_hu = float(rng.uniform(*BOWEL_CONTRAST_HU))
    return {
        "artery_hu": artery if vessels else None,
        "vein_hu": vein if vessels else None,
        "bowel_contrast_hu": bowel_hu if bowel else None,
    }


def medulla_hu(trabecular_hu: float, bv_tv: float) -> tuple[float, float, float]:
    """Marrow and strut CT numbers, and the bone fraction, whose blend has the mean trabecular_hu.

    Marrow moves first (within MARROW_HU), the struts take the rest (within BONE_TISSUE_HU); a mean too
    high for so few struts raises the bone fraction just enough, so every drawn mean is reachable.
    """
    low_marrow, high_marrow = MARROW_HU
    bv_tv = max(bv_tv, (trabecular_hu - high_marrow) / (BONE_TISSUE_HU[1] - high_marrow))
    marrow = float(
        np.clip((trabecular_hu - ref.HU_BONE_TISSUE * bv_tv) / (1.0 - bv_tv), low_marrow, high_marrow)
    )
    strut = float(np.clip(marrow + (trabecular_hu - marrow) / bv_tv, *BONE_TISSUE_HU))
    return marrow, strut, float(bv_tv)
