"""One synthetic patient's anatomy: pelvis, both proximal femurs, body habitus and pose.

World frame: LPS millimetres (x to the patient's left, y posterior, z superior); z = 0 at the hip-joint
centres before the patient's pose (shift and small rotations) is applied. All the randomness of the
anatomy is drawn here; rendering is deterministic given these numbers.
"""

from dataclasses import dataclass, field

import numpy as np

from . import reference as ref
from .appearance import STUDY_RANGES, AnatomyRanges
from .sdf import Vec, unit, vec

LEFT, RIGHT = 1, -1  # the sign of x on that side (LPS: +x is the patient's left); labels are voi.labels

# Femoral shaft adduction from the vertical in the coronal plane (mechanical vs anatomical axis,
# about 5-9 degrees; Moreland JR et al., J Bone Joint Surg Am 1987;69:745-749).
SHAFT_ADDUCTION_DEG = (5.0, 9.0)
# Cortical thickness (mm) of a young adult by region (thin subchondral shell at the head, thick
# diaphysis; e.g. Treece GM et al., Bone 2012;51:1128-1136 and Poole KES et al., PLoS One 2012).
CORTEX_MM = {"head": 0.9, "neck": 1.8, "shaft": 5.0}
# Joint space of the hip, 3-5 mm in adults without osteoarthritis (Lequesne M et al., Ann Rheum Dis 2004).
JOINT_SPACE_MM = (3.0, 4.5)


@dataclass(frozen=True)
class Femur:
    side: int
    head_centre: Vec
    head_radius: float
    neck_axis: Vec  # unit, from the neck base toward the head
    neck_length: float  # head centre to the junction with the shaft axis
    junction: Vec
    shaft_down: Vec  # unit, down the shaft
    shaft_radius: float
    lateral: Vec
    posterior: Vec
    osteophytes: tuple[tuple[Vec, float], ...] = ()

    @property
    def lesser_trochanter_centre(self) -> Vec:
        r = self.head_radius
        return self.junction + self.shaft_down * 1.0 * r - self.lateral * 0.55 * r + self.posterior * 0.45 * r

    @property
    def lesser_trochanter_radii(self) -> Vec:
        return vec(0.5, 0.32, 0.32) * self.head_radius

    @property
    def voi_bottom_z(self) -> float:
        """Lower margin of the lesser trochanter: the paper's VOI stops at this axial level."""
        return float(
            self.lesser_trochanter_centre[2] - self.lesser_trochanter_radii[0] * abs(self.shaft_down[2])
        )

    @property
    def neck_centre(self) -> Vec:
        """Middle of the neck between the head's surface and the junction: where QCT's neck ROI sits."""
        return self.head_centre - self.neck_axis * (
            self.head_radius + 0.35 * (self.neck_length - self.head_radius)
        )

    @property
    def neck_radius(self) -> float:
        return 0.68 * self.head_radius


@dataclass(frozen=True)
class Habitus:
    """Body size: semi-axes of the trunk at the hips and subcutaneous fat thickness (mm)."""

    half_width: float
    half_depth: float
    fat_mm: float
    visceral: float  # 0-1, how much of the pelvic cavity is fat rather than bowel

    @property
    def size_index(self) -> float:
        """0 for a slim patient, 1 for a large one; drives the tube-current-limited noise."""
        return float(np.clip((self.half_width + self.half_depth - 270.0) / 110.0, 0.0, 1.0))


@dataclass(frozen=True)
class Pose:
    shift: Vec
    rotation: np.ndarray  # 3x3, about the hip midpoint


@dataclass(frozen=True)
class Anatomy:
    sex: str
    femurs: tuple[Femur, Femur]  # left, right
    hip_half_width: float
    crest_z: float
    tuberosity_z: float
    habitus: Habitus
    pose: Pose
    bladder_radii: Vec
    seeds: dict = field(default_factory=dict)

    def femur(self, side: int) -> Femur:
        return self.femurs[0] if side == LEFT else self.femurs[1]


def _rotation(yaw_deg: float, roll_deg: float, pitch_deg: float) -> np.ndarray:
    a, b, c = np.radians([yaw_deg, roll_deg, pitch_deg])
    rz = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
    ry = np.array([[np.cos(b), 0, np.sin(b)], [0, 1, 0], [-np.sin(b), 0, np.cos(b)]])
    rx = np.array([[1, 0, 0], [0, np.cos(c), -np.sin(c)], [0, np.sin(c), np.cos(c)]])
    return rz @ ry @ rx


def _neck_axis(side: int, adduction: float, neck_shaft: float, anteversion: float) -> Vec:
    """Unit vector from the neck base to the head: medial and up by the neck-shaft angle, then forward."""
    tilt = np.radians(adduction - (180.0 - neck_shaft))  # from the vertical, positive toward lateral
    horizontal = np.sin(tilt)
    av = np.radians(anteversion)
    return unit([side * horizontal * np.cos(av), -abs(horizontal) * np.sin(av), np.cos(tilt)])


def _osteophytes(rng: np.random.Generator, centre: Vec, axis: Vec, radius: float) -> tuple:
    """Small bony spurs on the head-neck junction's rim (degenerative change the VOI must leave out)."""
    if rng.random() > 0.5:
        return ()
    helper = unit(np.cross(axis, [0.0, 1.0, 0.0]))
    other = np.cross(axis, helper)
    spurs = []
    for angle in rng.uniform(0, 2 * np.pi, size=rng.integers(2, 5)):
        direction = np.cos(angle) * helper + np.sin(angle) * other
        spot = centre - axis * 0.55 * radius + direction * 0.86 * radius
        spurs.append((spot, float(rng.uniform(2.0, 3.5))))
    return tuple(spurs)


def _femur(
    rng: np.random.Generator,
    side: int,
    hip: Vec,
    head_radius: float,
    degenerative: bool,
    ranges: AnatomyRanges,
) -> Femur:
    adduction = rng.uniform(*SHAFT_ADDUCTION_DEG)
    neck_shaft = rng.uniform(*ranges.neck_shaft_deg)
    axis = _neck_axis(side, adduction, neck_shaft, rng.uniform(*ranges.anteversion_deg))
    neck_length = head_radius * rng.uniform(2.05, 2.4)
    junction = hip - axis * neck_length
    shaft_down = unit([-side * np.sin(np.radians(adduction)), 0.0, -np.cos(np.radians(adduction))])
    spurs = _osteophytes(rng, hip, axis, head_radius) if degenerative else ()
    return Femur(
        side=side,
        head_centre=hip,
        head_radius=head_radius,
        neck_axis=axis,
        neck_length=neck_length,
        junction=junction,
        shaft_down=shaft_down,
        shaft_radius=head_radius * rng.uniform(0.56, 0.62),
        lateral=vec(side, 0, 0),
        posterior=vec(0, 1, 0),
        osteophytes=spurs,
    )


def _habitus(rng: np.random.Generator, sex: str, hip_half_width: float) -> Habitus:
    """Trunk size at the hips: the bony hips plus the gluteal muscles (~50 mm) plus the fat layer."""
    size = rng.beta(2.0, 2.5)
    fat = rng.uniform(8, 22) + 30 * size + (6 if sex == "F" else 0)
    return Habitus(
        half_width=float(hip_half_width + 52 + fat + 15 * size + rng.normal(0, 4)),
        half_depth=float(105 + 45 * size + rng.normal(0, 5)),
        fat_mm=float(fat),
        visceral=float(np.clip(0.35 + 0.5 * size + rng.normal(0, 0.1), 0.1, 0.95)),
    )


def _place(pose: Pose, point: Vec) -> Vec:
    return pose.rotation @ point + pose.shift


def _posed_femur(pose: Pose, f: Femur) -> Femur:
    r = pose.rotation
    return Femur(
        side=f.side,
        head_centre=_place(pose, f.head_centre),
        head_radius=f.head_radius,
        neck_axis=r @ f.neck_axis,
        neck_length=f.neck_length,
        junction=_place(pose, f.junction),
        shaft_down=r @ f.shaft_down,
        shaft_radius=f.shaft_radius,
        lateral=r @ f.lateral,
        posterior=r @ f.posterior,
        osteophytes=tuple((_place(pose, c), rad) for c, rad in f.osteophytes),
    )


def sample_anatomy(
    rng: np.random.Generator, *, sex: str, age: int, ranges: AnatomyRanges = STUDY_RANGES
) -> Anatomy:
    """Draw a patient's pelvis, femurs, habitus and pose; older patients get osteophytes more often.

    `ranges` widens the draws for the randomised appearance; the study's ranges draw exactly as before.
    """
    if sex not in ("F", "M"):
        raise ValueError(f"sex must be 'F' or 'M', got {sex!r}")
    low, high = ref.HEAD_DIAMETER_MM[sex]
    head_radius = (rng.uniform(low, high) / 2 + rng.normal(0, 0.8)) * ranges.head_scale
    half_width = rng.normal(88.0 if sex == "F" else 86.0, 4.0) * (head_radius / 23.5) ** 0.5
    degenerative = rng.random() < np.clip((age - 45) / 60, 0.1, 0.7) + ranges.osteophyte_boost
    femurs = []
    for side in (LEFT, RIGHT):
        radius = head_radius * rng.uniform(0.98, 1.02)  # left/right asymmetry of about 2 %
        hip = vec(side * half_width * rng.uniform(0.98, 1.02), -8.0 + rng.normal(0, 1.5), rng.normal(0, 1.0))
        femurs.append(_femur(rng, side, hip, radius, degenerative, ranges))
    pose = Pose(
        shift=vec(rng.normal(0, 8), rng.normal(0, 8), 0.0),
        rotation=_rotation(rng.normal(0, 2.0), rng.normal(0, 1.5), rng.normal(0, 2.0)),
    )
    left, right = (_posed_femur(pose, f) for f in femurs)
    return Anatomy(
        sex=sex,
        femurs=(left, right),
        hip_half_width=float(half_width),
        crest_z=float(rng.uniform(135, 160) * head_radius / 23.5),
        tuberosity_z=float(-rng.uniform(62, 72) * head_radius / 23.5),
        habitus=_habitus(rng, sex, half_width),
        pose=pose,
        bladder_radii=vec(rng.uniform(25, 50), rng.uniform(20, 38), rng.uniform(20, 40)),
    )
