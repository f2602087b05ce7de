"""Cases the study would exclude: hip replacement, femoral-neck fracture, incomplete scan, metastases.

Reasons use the platform's Exclusion vocabulary. The mix follows the paper's exclusion counts (bone
metastases 40, extra-osseous metastases 58, hip fracture 42, hip replacement 49, incomplete CT 50).
"""

from dataclasses import dataclass

import numpy as np

from . import reference as ref
from .anatomy import Anatomy, Femur
from .bones import femur_parts
from .sdf import Capsule, Clipped, Ellipsoid, Shape, Sphere, SphericalShell, Translated, Union, unit, vec

EXCLUSION_WEIGHTS = {
    "bone_metastases": 40,
    "extraosseous_metastases": 58,
    "hip_fracture": 42,
    "hip_replacement": 49,
    "incomplete_ct": 50,
}
EXCLUSION_REASONS = tuple(EXCLUSION_WEIGHTS)
HU_LYTIC = 30.0
HU_SCLEROTIC = 750.0
HU_NODE = 42.0


def choose_exclusion(rng: np.random.Generator, fraction: float) -> str:
    """An exclusion reason for this case, or "" for an included case."""
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"exclusion fraction must be within [0, 1], got {fraction}")
    if rng.random() >= fraction:
        return ""
    weights = np.array(list(EXCLUSION_WEIGHTS.values()), dtype=float)
    return str(rng.choice(EXCLUSION_REASONS, p=weights / weights.sum()))


@dataclass(frozen=True)
class Prosthesis:
    side: int
    metal: tuple[tuple[Shape, float], ...]
    bone: list  # the femur's remaining parts (trochanters and shaft around the stem)


def hip_replacement(f: Femur) -> Prosthesis:
    """A cemented-stem total hip: metal head, neck and stem in the femur, a metal cup in the acetabulum."""
    r = f.head_radius
    opening = unit([f.side * 0.75, -0.35, -0.55])
    cup = Clipped(
        SphericalShell(f.head_centre, r + 1.0, 4.0), ((f.head_centre + opening * 0.1 * r, opening),)
    )
    metal = (
        (Sphere(f.head_centre, 14.0), 0.0),
        (Capsule(f.head_centre, f.junction + f.neck_axis * 4.0, 6.0, 7.5), 3.0),
        (Capsule(f.junction, f.junction + f.shaft_down * 120.0, 8.0, 4.5), 3.0),
        (cup, 0.0),
    )
    cut = (f.junction + f.neck_axis * 6.0, f.neck_axis)  # the neck osteotomy: keep the bone below it
    bone = [(Clipped(s, (cut,)), k) for s, k in femur_parts(f, with_head=False)]
    return Prosthesis(f.side, metal, bone)


def fractured_femur_parts(rng: np.random.Generator, f: Femur) -> list[tuple[Shape, float]]:
    """A displaced subcapital neck fracture: the head fragment shifted and a gap along the fracture line."""
    whole = Union(tuple(femur_parts(f)))
    normal = unit(f.neck_axis + rng.normal(0, 0.25, 3))
    point = f.head_centre - f.neck_axis * (f.head_radius + rng.uniform(2, 9))
    gap = rng.uniform(1.0, 2.5)
    shift = -f.lateral * rng.uniform(0, 3) + vec(0, 0, -rng.uniform(2, 6)) + vec(0, rng.normal(0, 2), 0)
    distal = Clipped(whole, ((point + normal * gap / 2, normal),))
    head = Translated(Clipped(whole, ((point - normal * gap / 2, -normal),)), shift)
    return [(distal, 0.0), (head, 0.0)]


def bone_lesions(rng: np.random.Generator, a: Anatomy) -> tuple[list, float]:
    """Two to four metastases in thick bone (trochanters, acetabular roof, ischium): lytic or sclerotic."""
    spots = []
    for f in a.femurs:
        r = f.head_radius
        spots += [
            f.junction + f.lateral * 0.6 * r - f.shaft_down * 0.4 * r,
            f.head_centre + vec(-f.side * 4, 0, r + 14),
            f.head_centre + vec(-f.side * 28, 26, -52),
        ]
    chosen = rng.choice(len(spots), size=rng.integers(2, 5), replace=False)
    hu = HU_LYTIC if rng.random() < 0.6 else HU_SCLEROTIC
    return [(Sphere(spots[i], float(rng.uniform(5, 9))), 0.0) for i in chosen], hu


def lymph_nodes(rng: np.random.Generator, a: Anatomy) -> list:
    """Enlarged pelvic side-wall nodes (extra-osseous metastases) in the visceral fat."""
    nodes = []
    for side in rng.choice([1, -1], size=rng.integers(1, 3), replace=False):
        f = a.femur(int(side))
        centre = f.head_centre + vec(-side * (f.head_radius + 22), -18, 28 + rng.uniform(-8, 8))
        radii = vec(*rng.uniform(9, 16, 3))
        nodes.append((Ellipsoid(centre, np.eye(3), radii), 0.0))
    return nodes


def incomplete_bottom_z(rng: np.random.Generator, a: Anatomy) -> float:
    """Where an incomplete scan stops: above both lesser trochanters, somewhere through the heads/necks."""
    highest_lt = max(f.voi_bottom_z for f in a.femurs) + 2 * max(
        f.lesser_trochanter_radii[0] for f in a.femurs
    )
    head_low = min(f.head_centre[2] for f in a.femurs)
    return float(max(rng.uniform(head_low - 15.0, head_low + 10.0), highest_lt + 5.0))


__all__ = ["EXCLUSION_REASONS", "choose_exclusion", "hip_replacement", "fractured_femur_parts", "ref"]
