"""Reference values the phantom is built on, each with its source.

The phantom only imitates a cohort; none of these numbers is used to diagnose anybody. The platform reads
real T-scores from the QCT report and never recomputes them from these constants.
"""

from types import MappingProxyType

# QCT of the hip (CTXA-style) reports areal, DXA-equivalent BMD at the four DXA hip sites.
BMD_UNIT = "g/cm2"

# Young-adult reference (mean, SD) in g/cm2 for the T-score, NHANES III non-Hispanic white women aged
# 20-29 (Looker AC et al., "Updated data on proximal femur bone mineral levels of US adults",
# Osteoporos Int 1998;8:468-489). ISCD official positions (2019) recommend this one female reference for
# women and men alike. Femoral neck and total hip are the widely quoted figures; trochanter and
# intertrochanter are taken from the same tables as commonly reproduced and shape synthetic data only.
YOUNG_ADULT_REFERENCE = MappingProxyType(
    {
        "femoral_neck": (0.858, 0.120),
        "trochanter": (0.708, 0.095),
        "intertrochanter": (1.105, 0.155),
        "total_hip": (0.942, 0.122),
    }
)
QCT_SITES = tuple(YOUNG_ADULT_REFERENCE)

# ISCD / ACR classes by T-score (WHO 1994 thresholds): normal T >= -1.0, osteoporosis T <= -2.5.
NORMAL_MIN_T = -1.0
OSTEOPOROSIS_MAX_T = -2.5
CLASSES = ("normal", "osteopenia", "osteoporosis")
# ISCD: classify by the lowest T-score of femoral neck and total hip (lumbar spine is not in this scan).
CLASSIFYING_SITES = ("femoral_neck", "total_hip")

# Default class mix of Du et al. 2025 (BMC Musculoskelet Disord, doi 10.1186/s12891-025-08631-x):
# 202 normal, 175 osteopenia, 79 osteoporosis of 456 included patients.
PAPER_CLASS_MIX = MappingProxyType({"normal": 202 / 456, "osteopenia": 175 / 456, "osteoporosis": 79 / 456})
# Same paper: age 67.8 +/- 8.2 years, range 50-91; 239 of 456 women.
AGE_MEAN, AGE_SD, AGE_MIN, AGE_MAX = 67.8, 8.2, 50, 91

# Typical CT numbers at 120 kVp (e.g. Lamba R et al., "CT Hounsfield numbers of soft tissues on unenhanced
# abdominal CT scans", Abdom Imaging 2014;39:1117-1123; cortical bone and marrow from the QCT
# literature, e.g. Engelke K et al., J Clin Densitom 2008;11:123-162).
HU_AIR = -1000.0
HU_FAT = -100.0
HU_MUSCLE = 45.0
HU_URINE = 8.0
HU_BOWEL_WALL = 35.0
HU_BOWEL_GAS = -900.0
HU_CORTEX_YOUNG = 1550.0  # mineralised cortical tissue of a young adult, before partial-volume blur
HU_BONE_TISSUE = 1250.0  # trabecular tissue as one voxel-scale strut sees it
HU_MARROW_RED = 10.0  # haematopoietic + fatty mix of a healthy adult's proximal femur
HU_METAL = 4000.0  # cobalt-chrome / titanium on an extended-scale CT: far above 3000 HU
HU_TABLE_SHELL = 250.0
HU_TABLE_FOAM = -850.0

# Anatomy (adult, from the hip-morphometry literature, e.g. Noble PC et al. Clin Orthop 1988;235:148-165,
# and Gilligan I et al. PLoS One 2013;8:e71369): femoral head diameter 40-55 mm (larger in men),
# neck-shaft angle 120-140 deg, anteversion ~5-25 deg.
HEAD_DIAMETER_MM = MappingProxyType({"F": (41.0, 46.5), "M": (46.0, 53.0)})  # (min mean, max mean) by sex
NECK_SHAFT_ANGLE_DEG = (120.0, 140.0)
ANTEVERSION_DEG = (5.0, 25.0)

# Low-dose protocol of the paper: 120 kVp, 1.25 mm slices; mean DLP 241.3 mGy*cm, 3.62 mSv.
KVP = 120
SLICE_THICKNESS_MM = 1.25
# Effective dose per DLP for the adult abdomen-pelvis (ICRP 102 / AAPM Report 96): 0.015 mSv/(mGy*cm).
DOSE_PER_DLP_ABDOMEN_PELVIS = 0.015
