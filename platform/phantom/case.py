"""One synthetic LDCT case: image, reference VOI label volume, reader masks, QCT and metadata.

Every random draw comes from a stream seeded by (cohort seed, case index) and split by purpose, so a case
is the same whatever the cohort size, and switching DICOM or previews on or off changes no pixel.
"""

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import SimpleITK as sitk

from voi.labels import LEFT as LEFT_LABEL
from voi.labels import RIGHT as RIGHT_LABEL

from . import reference as ref
from .anatomy import LEFT, RIGHT, Anatomy, Femur, sample_anatomy
from .bones import (
    BoneDensity,
    Rendered,
    Voi,
    composite,
    femur_parts,
    hemipelvis_parts,
    render_femur,
    render_pelvis,
    render_solid,
    sacrum_parts,
)
from .exclusions import (
    bone_lesions,
    choose_exclusion,
    fractured_femur_parts,
    hip_replacement,
    incomplete_bottom_z,
    lymph_nodes,
)
from .qct import QCTResult, sample_qct
from .readers import reader_masks
from .scanner import (
    SCANNER_PROFILES,
    Filters,
    ScannerProfile,
    calibrate,
    form_slab,
    metal_streaks,
    sample_exposure,
)
from .sdf import Grid
from .softtissue import BodyPlan, bowel_tile, render_slab, table_slice
from .texture import make_tiles

REGIONS = ("pelvis", "abdomen", "hips", "left_neck")
SLAB = 16  # slices per image-formation slab: big enough for FFT efficiency, small enough for memory
TISSUE_SLAB = 4  # slices per soft-tissue slab: its temporaries stay in the CPU cache
FOV_MM = (350.0, 450.0)
ABDOMEN_EXTRA_MM = 200.0
BELOW_LESSER_TROCHANTER_MM = 35.0  # the paper's range ends 3.5 cm below the lesser trochanter
# Biological scatter between the femoral neck's trabecular density and its QCT BMD (in T units): QCT's
# areal BMD also carries the cortex and bone size, so the two agree closely but not perfectly.
IMAGE_DENSITY_SCATTER_T = 0.7
STUDY_YEAR = 2024
NECK_ROI_FRACTION = 0.45  # neck ROI radius as a fraction of the neck radius: trabecular bone only
MAX_QCT_DAYS = 7


@dataclass(frozen=True)
class CaseOptions:
    """Knobs of one case; see README.md for what each does."""

    matrix: int = 512
    region: str = "pelvis"
    slices: int | None = None
    slice_mm: float = ref.SLICE_THICKNESS_MM
    scanners: tuple[str, ...] = tuple(SCANNER_PROFILES)
    class_mix: dict = field(default_factory=lambda: dict(ref.PAPER_CLASS_MIX))
    exclusion_fraction: float = 0.0
    exclusion: str | None = None  # force one reason ("" forces an included case)
    readers: bool = True

    def __post_init__(self):
        if not 32 <= self.matrix <= 1024:
            raise ValueError(f"matrix must be between 32 and 1024, got {self.matrix}")
        if self.region not in REGIONS:
            raise ValueError(f"region must be one of {REGIONS}, got {self.region!r}")
        if self.slices is not None and not 1 <= self.slices <= 2000:
            raise ValueError(f"slices must be between 1 and 2000, got {self.slices}")
        if not 0.5 <= self.slice_mm <= 5.0:
            raise ValueError(f"slice thickness must be between 0.5 and 5 mm, got {self.slice_mm}")
        unknown = set(self.scanners) - set(SCANNER_PROFILES)
        if not self.scanners or unknown:
            raise ValueError(f"scanners must be among {sorted(SCANNER_PROFILES)}, got {list(self.scanners)}")


@dataclass
class PhantomCase:
    study_id: str
    image: sitk.Image  # int16 HU, LPS, identity direction
    label: sitk.Image  # uint8: 0 background, 1 left proximal femur, 2 right
    reader_labels: tuple[sitk.Image, sitk.Image] | None
    qct: QCTResult
    metadata: dict
    grid: Grid
    anatomy: Anatomy

    def femoral_neck_roi(self, side: int = LEFT) -> np.ndarray:
        """Flat indices of a sphere of trabecular bone in the middle of the femoral neck."""
        return femoral_neck_roi(self.grid, self.anatomy.femur(side))


def _streams(seed: int, index: int) -> dict[str, np.random.Generator]:
    names = ("qct", "anatomy", "scanner", "texture", "noise", "readers", "exclusion", "dates")
    children = np.random.SeedSequence([seed, index]).spawn(len(names))
    return {n: np.random.default_rng(c) for n, c in zip(names, children, strict=True)}


def _z_range(options: CaseOptions, a: Anatomy, exclusion: str, rng: np.random.Generator) -> tuple[float, float]:
    bottom = min(f.voi_bottom_z for f in a.femurs) - BELOW_LESSER_TROCHANTER_MM
    top = a.crest_z + 10.0
    if options.region == "abdomen":
        top += ABDOMEN_EXTRA_MM
    elif options.region == "hips":
        top = max(f.head_centre[2] + f.head_radius for f in a.femurs) + 8.0
        bottom = min(f.voi_bottom_z for f in a.femurs) - 10.0
    elif options.region == "left_neck":
        centre = a.femur(LEFT).neck_centre[2]
        top, bottom = centre + 15.0, centre - 15.0
    if exclusion == "incomplete_ct":
        bottom = incomplete_bottom_z(rng, a)
        top = max(top, bottom + 30.0)
    return bottom, top


def build_grid(options: CaseOptions, a: Anatomy, exclusion: str, rng: np.random.Generator) -> Grid:
    fov = float(np.clip(2 * a.habitus.half_width * 1.15 + 20, *FOV_MM))
    spacing = fov / options.matrix
    bottom, top = _z_range(options, a, exclusion, rng)
    slices = options.slices or int(round((top - bottom) / options.slice_mm)) + 1
    if options.region == "left_neck":
        centre = a.femur(LEFT).neck_centre
        n = options.matrix // 8
        origin = (centre[0] - n / 2 * spacing, centre[1] - n / 2 * spacing, bottom)
        return Grid(origin, (spacing, spacing, options.slice_mm), (n, n, slices))
    origin = (-fov / 2 + spacing / 2, -fov / 2 + spacing / 2, bottom)
    return Grid(origin, (spacing, spacing, options.slice_mm), (options.matrix, options.matrix, slices))


def femoral_neck_roi(grid: Grid, f: Femur) -> np.ndarray:
    radius = NECK_ROI_FRACTION * f.neck_radius
    block = grid.block(f.neck_centre - radius, f.neck_centre + radius)
    if block is None:
        return np.empty(0, np.int64)
    z, y, x = grid.coords(block)
    c = f.neck_centre.astype(np.float32)
    inside = (x - c[0]) ** 2 + (y - c[1]) ** 2 + (z - c[2]) ** 2 <= radius**2
    zi, yi, xi = np.nonzero(inside)
    return np.ravel_multi_index((zi + block.z.start, yi + block.y.start, xi + block.x.start), grid.shape)


def _soft_tissue(grid: Grid, a: Anatomy, rng: np.random.Generator) -> np.ndarray:
    volume = np.empty(grid.shape, dtype=np.float32)
    plan, tile = BodyPlan(a), bowel_tile(rng)
    table = table_slice(grid, plan)
    for start in range(0, grid.shape[0], TISSUE_SLAB):
        z_slice = slice(start, min(start + TISSUE_SLAB, grid.shape[0]))
        render_slab(grid, plan, tile, table, z_slice, volume[z_slice])
    return volume


@dataclass
class _Bones:
    layers: list[Rendered]
    vois: dict[int, Voi]
    metal: Rendered | None = None


def _bones(grid: Grid, a: Anatomy, density: BoneDensity, exclusion: str, rngs: dict) -> _Bones:
    tiles, edge = make_tiles(rngs["texture"]), grid.spacing[0]
    joint = float(rngs["anatomy"].uniform(3.0, 4.5))
    layers = [render_pelvis(grid, hemipelvis_parts(a, f, joint), density, tiles, edge) for f in a.femurs]
    layers.append(render_pelvis(grid, sacrum_parts(a), density, tiles, edge))
    replaced = int(rngs["exclusion"].choice([LEFT, RIGHT])) if exclusion in ("hip_replacement", "hip_fracture") else 0
    vois, metal = {}, None
    for f in a.femurs:
        parts = femur_parts(f)
        if f.side == replaced and exclusion == "hip_fracture":
            parts = fractured_femur_parts(rngs["exclusion"], f)
        if f.side == replaced and exclusion == "hip_replacement":
            prosthesis = hip_replacement(f)
            parts, metal = prosthesis.bone, render_solid(grid, list(prosthesis.metal), ref.HU_METAL, edge)
        rendered, voi = render_femur(grid, f, density, tiles, parts, edge)
        layers.append(rendered)
        vois[f.side] = voi if f.side != replaced or exclusion != "hip_replacement" else Voi(voi.index[:0], voi.distance[:0])
    return _Bones(layers, vois, metal)


def _lesions(grid: Grid, a: Anatomy, exclusion: str, rng: np.random.Generator) -> list[Rendered]:
    if exclusion == "bone_metastases":
        spheres, hu = bone_lesions(rng, a)
        return [render_solid(grid, [s], hu, grid.spacing[0]) for s in spheres]
    if exclusion == "extraosseous_metastases":
        return [render_solid(grid, [n], 42.0, grid.spacing[0]) for n in lymph_nodes(rng, a)]
    return []


def _image(volume: np.ndarray, grid: Grid, profile: ScannerProfile, noise_sd: float, rng: np.random.Generator,
           streaks: tuple | None) -> np.ndarray:
    """Blur, noise and calibration slab by slab into an int16 array; frees the float volume as it goes."""
    filters = Filters.build(profile, grid.shape[1:], grid.spacing[0])
    out = np.empty(grid.shape, dtype=np.int16)
    for start in range(0, grid.shape[0], SLAB):
        zs = slice(start, min(start + SLAB, grid.shape[0]))
        slab = form_slab(volume[zs], filters, noise_sd, rng)
        if streaks is not None and streaks[0][zs].any():
            strength, centre, towards, pattern_seed = streaks
            axes = (grid.axis_mm(0, slice(0, grid.size[0])), grid.axis_mm(1, slice(0, grid.size[1])))
            slab += metal_streaks(grid.shape[1:], axes, centre, strength[zs], pattern_seed, towards)
        calibrate(slab, profile, out[zs])
    return out


def _streak_plan(grid: Grid, metal: Rendered, a: Anatomy, rng: np.random.Generator) -> tuple:
    per_slice = np.bincount(np.unravel_index(metal.index, grid.shape)[0], weights=metal.alpha,
                            minlength=grid.shape[0])
    strength = np.clip(per_slice / max(per_slice.max(), 1.0), 0, 1) ** 0.5
    zi, yi, xi = np.unravel_index(metal.index, grid.shape)
    centre = (grid.origin[0] + xi.mean() * grid.spacing[0], grid.origin[1] + yi.mean() * grid.spacing[1])
    return strength, centre, (0.0 if centre[0] < a.pose.shift[0] else np.pi), int(rng.integers(2**31))


def _labels(grid: Grid, vois: dict[int, Voi]) -> np.ndarray:
    label = np.zeros(grid.shape, dtype=np.uint8)
    flat = label.reshape(-1)
    for side, voi in vois.items():
        flat[voi.index[voi.distance < 0]] = LEFT_LABEL if side == LEFT else RIGHT_LABEL
    return label


def _to_image(array: np.ndarray, grid: Grid) -> sitk.Image:
    image = sitk.GetImageFromArray(array)
    image.SetOrigin(tuple(float(v) for v in grid.origin))
    image.SetSpacing(tuple(float(v) for v in grid.spacing))
    image.SetDirection((1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0))
    return image


def _dates(rng: np.random.Generator) -> tuple[dt.datetime, dt.date]:
    """CT exam somewhere in Jan-Nov 2024 during working hours; QCT within a week of it, same year."""
    first, last = dt.date(STUDY_YEAR, 1, 2), dt.date(STUDY_YEAR, 11, 30)
    day = first + dt.timedelta(days=int(rng.integers(0, (last - first).days + 1)))
    exam = dt.datetime.combine(day, dt.time(int(rng.integers(8, 18)), int(rng.integers(0, 60)), int(rng.integers(0, 60))))
    qct_day = day + dt.timedelta(days=int(rng.integers(-MAX_QCT_DAYS, MAX_QCT_DAYS + 1)))
    return exam, min(max(qct_day, dt.date(STUDY_YEAR, 1, 1)), dt.date(STUDY_YEAR, 12, 31))


def generate_case(*, seed: int, index: int, options: CaseOptions | None = None) -> PhantomCase:
    """Generate case number `index` (0-based) of the cohort with `seed`; same arguments, same bytes."""
    options = options or CaseOptions()
    rngs = _streams(seed, index)
    qct = sample_qct(rngs["qct"], class_mix=options.class_mix)
    exclusion = choose_exclusion(rngs["exclusion"], options.exclusion_fraction)
    if options.exclusion is not None:
        exclusion = options.exclusion
    anatomy = sample_anatomy(rngs["anatomy"], sex=qct.sex, age=qct.age)
    grid = build_grid(options, anatomy, exclusion, rngs["exclusion"])
    image_t = qct.t_score["femoral_neck"] + rngs["texture"].normal(0, IMAGE_DENSITY_SCATTER_T)
    density = BoneDensity.from_latent(image_t)
    volume = _soft_tissue(grid, anatomy, rngs["texture"])
    bones = _bones(grid, anatomy, density, exclusion, rngs)
    for layer in bones.layers + _lesions(grid, anatomy, exclusion, rngs["exclusion"]):
        composite(volume, layer)
    streaks = None
    if bones.metal is not None and bones.metal.index.size:
        composite(volume, bones.metal)
        streaks = _streak_plan(grid, bones.metal, anatomy, rngs["exclusion"])
    scanner_rng = rngs["scanner"]
    profile = SCANNER_PROFILES[options.scanners[int(scanner_rng.integers(len(options.scanners)))]]
    exposure = sample_exposure(scanner_rng, profile, anatomy.habitus.size_index)
    pixels = _image(volume, grid, profile, exposure.noise_sd, rngs["noise"], streaks)
    del volume
    label = _labels(grid, bones.vois)
    readers = reader_masks(grid, bones.vois, rngs["readers"]) if options.readers else None
    exam, qct_date = _dates(rngs["dates"])
    study_id = f"SYN-{index + 1:04d}"
    metadata = {
        "study_id": study_id,
        "sex": qct.sex,
        "age": qct.age,
        "birth_year": exam.year - qct.age - int(rngs["dates"].integers(0, 2)),
        "exam_datetime": exam.isoformat(timespec="seconds"),
        "scanner": profile.key,
        "scanner_model": profile.model,
        "manufacturer": profile.manufacturer,
        "kvp": ref.KVP,
        "slice_thickness_mm": options.slice_mm,
        "ctdi_vol_mgy": exposure.ctdi_vol,
        "dlp_mgycm": exposure.dlp,
        "effective_dose_msv": round(exposure.effective_dose_msv, 2),
        "noise_sd_hu": round(exposure.noise_sd, 1),
        "exclusion_reason": exclusion,
        "bone_status": qct.bone_status,
        "qct_date": qct_date.isoformat(),
        "days_from_ct": (qct_date - exam.date()).days,
        "image_density_t": round(float(image_t), 3),
        "neck_bv_tv": round(density.bv_tv, 4),
        "osteophytes": bool(anatomy.femurs[0].osteophytes),
    }
    return PhantomCase(
        study_id=study_id,
        image=_to_image(pixels, grid),
        label=_to_image(label, grid),
        reader_labels=None if readers is None else (_to_image(readers[0], grid), _to_image(readers[1], grid)),
        qct=qct,
        metadata=metadata,
        grid=grid,
        anatomy=anatomy,
    )
