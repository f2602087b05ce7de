"""One synthetic LDCT case: image, reference VOI label volume, reader masks, QCT and metadata.

Every random draw comes from a stream seeded by (cohort seed, case index) and split by purpose, so a case
is the same whatever the cohort size, and switching DICOM or previews on or off changes no pixel.
"""

import datetime as dt
from dataclasses import dataclass, field, replace

import numpy as np
import SimpleITK as sitk

from voi.labels import LEFT as LEFT_LABEL
from voi.labels import RIGHT as RIGHT_LABEL

from . import reference as ref
from .anatomy import LEFT, RIGHT, Anatomy, Femur, sample_anatomy
from .appearance import (
    APPEARANCES,
    STUDY,
    TOP_ABOVE_CREST_MM,
    TOP_ABOVE_HEADS_MM,
    Appearance,
    appearance_rng,
    draw_appearance,
    medulla_hu,
)
from .appearance_extras import body_with_fat, extra_layers, nail_metal
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
    ALL_PROFILES,
    CALIBRATION_STREAM,
    CALIBRATIONS,
    SCANNER_PROFILES,
    Filters,
    ScannerProfile,
    calibrate,
    calibration_spread,
    form_slab,
    metal_streaks,
    recalibrated,
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
    # "randomised" draws every appearance parameter per case (appearance.py) for segmentation training.
    appearance: str = "study"
    # "spread" adds a per-case calibration error as sites without a calibration phantom have (scanner.py).
    calibration: str = "profile"
    # A fixed extra calibration offset (HU) and noise factor: the held-out profile of segmentation training.
    hu_offset: float = 0.0
    noise_scale: float = 1.0
    # A thick slice as the mean of thin rendered sub-slices (partial volume along z). None: on for the
    # randomised appearance, off for the study's (whose slices are point samples, as before).
    z_partial_volume: bool | None = None

    def __post_init__(self):
        if not 32 <= self.matrix <= 1024:
            raise ValueError(f"matrix must be between 32 and 1024, got {self.matrix}")
        if self.region not in REGIONS:
            raise ValueError(f"region must be one of {REGIONS}, got {self.region!r}")
        if self.slices is not None and not 1 <= self.slices <= 2000:
            raise ValueError(f"slices must be between 1 and 2000, got {self.slices}")
        if not 0.5 <= self.slice_mm <= 5.0:
            raise ValueError(f"slice thickness must be between 0.5 and 5 mm, got {self.slice_mm}")
        unknown = set(self.scanners) - set(ALL_PROFILES)
        if not self.scanners or unknown:
            raise ValueError(f"scanners must be among {sorted(ALL_PROFILES)}, got {list(self.scanners)}")
        if self.appearance not in APPEARANCES:
            raise ValueError(f"appearance must be one of {APPEARANCES}, got {self.appearance!r}")
        if self.calibration not in CALIBRATIONS:
            raise ValueError(f"calibration must be one of {CALIBRATIONS}, got {self.calibration!r}")
        if not (abs(self.hu_offset) <= 200 and 0.1 <= self.noise_scale <= 5):
            raise ValueError("hu_offset must lie within +/-200 HU and noise_scale within 0.1-5")

    @property
    def averages_thick_slices(self) -> bool:
        return self.appearance == "randomised" if self.z_partial_volume is None else self.z_partial_volume


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


def _z_range(
    options: CaseOptions, a: Anatomy, exclusion: str, rng: np.random.Generator, look: Appearance = STUDY
) -> tuple[float, float]:
    bottom = min(f.voi_bottom_z for f in a.femurs) - BELOW_LESSER_TROCHANTER_MM
    top = a.crest_z + 10.0
    if (
        look.top_fraction is not None
        and look.bottom_below_voi_mm is not None
        and options.region in ("pelvis", "abdomen")
    ):
        bottom, top = _cut_z_range(a, look.top_fraction, look.bottom_below_voi_mm)
    elif options.region == "abdomen":
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


def _cut_z_range(a: Anatomy, top_fraction: float, bottom_below_voi_mm: float) -> tuple[float, float]:
    """The randomised field of view along z: top between just above the heads and above the crest."""
    lowest_top = max(f.head_centre[2] + f.head_radius for f in a.femurs) + TOP_ABOVE_HEADS_MM
    highest_top = max(lowest_top, a.crest_z + TOP_ABOVE_CREST_MM)
    top = lowest_top + top_fraction * (highest_top - lowest_top)
    return min(f.voi_bottom_z for f in a.femurs) - bottom_below_voi_mm, top


def _in_plane(options: CaseOptions, a: Anatomy, look: Appearance) -> tuple[float, int]:
    """Field of view (mm) and matrix. The randomised look cuts or widens the field around the body (never
    cutting a femur) and draws the pixel size, with options.matrix as the largest matrix it may use."""
    body = 2 * a.habitus.half_width * 1.15 + 20
    if look.fov_to_body is None or look.pixel_mm is None:
        return float(np.clip(body, *FOV_MM)), options.matrix
    femurs = (
        max(abs(f.junction[0]) + 2.0 * f.head_radius for f in a.femurs) + 10.0
    )  # past the greater trochanter
    fov = max(body * look.fov_to_body, 2 * femurs)
    matrix = int(min(options.matrix, max(32, round(fov / look.pixel_mm))))
    return fov, matrix


def build_grid(
    options: CaseOptions, a: Anatomy, exclusion: str, rng: np.random.Generator, look: Appearance = STUDY
) -> Grid:
    fov, matrix = _in_plane(options, a, look)
    spacing = fov / matrix
    slice_mm = look.slice_mm or options.slice_mm
    bottom, top = _z_range(options, a, exclusion, rng, look)
    slices = options.slices or int(round((top - bottom) / slice_mm)) + 1
    if options.region == "left_neck":
        centre = a.femur(LEFT).neck_centre
        n = matrix // 8
        origin = (centre[0] - n / 2 * spacing, centre[1] - n / 2 * spacing, bottom)
        return Grid(origin, (spacing, spacing, slice_mm), (n, n, slices))
    origin = (-fov / 2 + spacing / 2, -fov / 2 + spacing / 2, bottom)
    return Grid(origin, (spacing, spacing, slice_mm), (matrix, matrix, slices))


def sub_slices(thick_mm: float) -> int:
    """Thin sub-slices rendered per thick slice: none thicker than the study's 1.25 mm."""
    return max(1, int(np.ceil(thick_mm / ref.SLICE_THICKNESS_MM - 1e-6)))


def rendering_grid(grid: Grid, k: int) -> Grid:
    """The grid of k thin sub-slices per slice of `grid`, centred so that each group's mean sits at the
    thick slice's centre."""
    if k == 1:
        return grid
    thin = grid.spacing[2] / k
    origin = (grid.origin[0], grid.origin[1], grid.origin[2] - grid.spacing[2] / 2 + thin / 2)
    return Grid(
        origin, (grid.spacing[0], grid.spacing[1], thin), (grid.size[0], grid.size[1], grid.size[2] * k)
    )


def thicken(volume: np.ndarray, k: int) -> np.ndarray:
    """Mean over groups of k sub-slices: the thick slice's partial volume along z."""
    if k == 1:
        return volume
    return volume.reshape(-1, k, *volume.shape[1:]).mean(axis=1, dtype=np.float32)


def thicken_labels(label: np.ndarray, k: int) -> np.ndarray:
    """A label where at least half of the thick slice's sub-slices hold it."""
    if k == 1:
        return label
    out = np.zeros((label.shape[0] // k, *label.shape[1:]), dtype=np.uint8)
    for value in (LEFT_LABEL, RIGHT_LABEL):
        out[thicken((label == value).astype(np.float32), k) >= 0.5] = value
    return out


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


def _soft_tissue(grid: Grid, a: Anatomy, rng: np.random.Generator, look: Appearance = STUDY) -> np.ndarray:
    volume = np.empty(grid.shape, dtype=np.float32)
    plan, tile = BodyPlan(a, look.tissues), bowel_tile(rng)
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


def _bones(
    grid: Grid, a: Anatomy, density: BoneDensity, exclusion: str, rngs: dict, look: Appearance = STUDY
) -> _Bones:
    tiles, edge = make_tiles(rngs["texture"]), grid.spacing[0]
    joint = float(rngs["anatomy"].uniform(*look.anatomy.joint_space_mm))
    layers = [render_pelvis(grid, hemipelvis_parts(a, f, joint), density, tiles, edge) for f in a.femurs]
    layers.append(render_pelvis(grid, sacrum_parts(a), density, tiles, edge))
    replaced = (
        int(rngs["exclusion"].choice([LEFT, RIGHT]))
        if exclusion in ("hip_replacement", "hip_fracture")
        else 0
    )
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
        vois[f.side] = (
            voi
            if f.side != replaced or exclusion != "hip_replacement"
            else Voi(voi.index[:0], voi.distance[:0])
        )
    return _Bones(layers, vois, metal)


def _lesions(grid: Grid, a: Anatomy, exclusion: str, rng: np.random.Generator) -> list[Rendered]:
    if exclusion == "bone_metastases":
        spheres, hu = bone_lesions(rng, a)
        return [render_solid(grid, [s], hu, grid.spacing[0]) for s in spheres]
    if exclusion == "extraosseous_metastases":
        return [render_solid(grid, [n], 42.0, grid.spacing[0]) for n in lymph_nodes(rng, a)]
    return []


def _image(
    volume: np.ndarray,
    grid: Grid,
    profile: ScannerProfile,
    noise_sd: float,
    rng: np.random.Generator,
    streaks: tuple | None,
) -> np.ndarray:
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
    per_slice = np.bincount(
        np.unravel_index(metal.index, grid.shape)[0], weights=metal.alpha, minlength=grid.shape[0]
    )
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


def _looked_density(density: BoneDensity, look: Appearance) -> BoneDensity:
    """The randomised look's bone CT numbers: the medulla's mean and the cortex as drawn."""
    if look.trabecular_hu is None or look.cortex_hu is None:
        return density
    marrow, strut, bv_tv = medulla_hu(look.trabecular_hu, density.bv_tv)
    return replace(density, marrow_hu=marrow, bone_tissue_hu=strut, bv_tv=bv_tv, cortex_hu=look.cortex_hu)


def _imaging_profile(
    profile: ScannerProfile, look: Appearance, options: CaseOptions, seed: int, index: int
) -> tuple[ScannerProfile, float, float]:
    """The profile the image is formed with: the look's kernel and noise texture, and the calibration
    error (the case's spread draw plus any fixed offset). Returns it with the extra offset and gain."""
    if look.fwhm_mm is not None and look.nps_peak_per_mm is not None:
        profile = replace(profile, fwhm_mm=look.fwhm_mm, nps_peak_per_mm=look.nps_peak_per_mm)
    offset, gain = 0.0, 1.0
    if options.calibration == "spread":
        offset, gain = calibration_spread(np.random.default_rng([seed, index, CALIBRATION_STREAM]))
    offset += options.hu_offset
    return recalibrated(profile, offset, gain), offset, gain


def _thick_streaks(plan: tuple, k: int) -> tuple:
    strength, centre, towards, pattern_seed = plan
    return thicken(strength[:, None, None].astype(np.float32), k)[:, 0, 0], centre, towards, pattern_seed


def _appearance_metadata(look: Appearance, offset: float, gain: float, noise_sd: float, grid: Grid) -> dict:
    return {
        "appearance": look.name,
        "hu_calibration_offset": round(offset, 1),
        "hu_calibration_gain": round(gain, 4),
        "noise_sd_hu": round(noise_sd, 1),
        "pixel_mm": round(float(grid.spacing[0]), 3),
    }


def _dates(rng: np.random.Generator) -> tuple[dt.datetime, dt.date]:
    """CT exam somewhere in Jan-Nov 2024 during working hours; QCT within a week of it, same year."""
    first, last = dt.date(STUDY_YEAR, 1, 2), dt.date(STUDY_YEAR, 11, 30)
    day = first + dt.timedelta(days=int(rng.integers(0, (last - first).days + 1)))
    exam = dt.datetime.combine(
        day, dt.time(int(rng.integers(8, 18)), int(rng.integers(0, 60)), int(rng.integers(0, 60)))
    )
    qct_day = day + dt.timedelta(days=int(rng.integers(-MAX_QCT_DAYS, MAX_QCT_DAYS + 1)))
    return exam, min(max(qct_day, dt.date(STUDY_YEAR, 1, 1)), dt.date(STUDY_YEAR, 12, 31))


def generate_case(*, seed: int, index: int, options: CaseOptions | None = None) -> PhantomCase:
    """Generate case number `index` (0-based) of the cohort with `seed`; same arguments, same bytes."""
    options = options or CaseOptions()
    rngs = _streams(seed, index)
    look = draw_appearance(options.appearance, appearance_rng(seed, index))
    qct = sample_qct(rngs["qct"], class_mix=options.class_mix)
    exclusion = choose_exclusion(rngs["exclusion"], options.exclusion_fraction)
    if options.exclusion is not None:
        exclusion = options.exclusion
    anatomy = body_with_fat(
        sample_anatomy(rngs["anatomy"], sex=qct.sex, age=qct.age, ranges=look.anatomy), look.fat_scale
    )
    grid = build_grid(options, anatomy, exclusion, rngs["exclusion"], look)
    k = sub_slices(grid.spacing[2]) if options.averages_thick_slices else 1
    fine = rendering_grid(grid, k)
    image_t = qct.t_score["femoral_neck"] + rngs["texture"].normal(0, IMAGE_DENSITY_SCATTER_T)
    density = _looked_density(BoneDensity.from_latent(image_t), look)
    volume = _soft_tissue(fine, anatomy, rngs["texture"], look)
    bones = _bones(fine, anatomy, density, exclusion, rngs, look)
    extras = extra_layers(fine, anatomy, look)
    for layer in extras + bones.layers + _lesions(fine, anatomy, exclusion, rngs["exclusion"]):
        composite(volume, layer)
    metal = bones.metal if bones.metal is not None else nail_metal(fine, anatomy, look)
    streaks = None
    if metal is not None and metal.index.size:
        composite(volume, metal)
        streaks = _thick_streaks(_streak_plan(fine, metal, anatomy, rngs["exclusion"]), k)
    volume = thicken(volume, k)
    scanner_rng = rngs["scanner"]
    profile = ALL_PROFILES[options.scanners[int(scanner_rng.integers(len(options.scanners)))]]
    exposure = sample_exposure(scanner_rng, profile, anatomy.habitus.size_index)
    imaging, offset, gain = _imaging_profile(profile, look, options, seed, index)
    noise_sd = (look.noise_sd_hu or exposure.noise_sd) * options.noise_scale
    pixels = _image(volume, grid, imaging, noise_sd, rngs["noise"], streaks)
    del volume
    label = thicken_labels(_labels(fine, bones.vois), k)
    readers = reader_masks(fine, bones.vois, rngs["readers"]) if options.readers else None
    if readers is not None:
        readers = (thicken_labels(readers[0], k), thicken_labels(readers[1], k))
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
        "slice_thickness_mm": options.slice_mm if look.slice_mm is None else round(look.slice_mm, 2),
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
    if look.randomised or options.calibration != "profile" or options.hu_offset or options.noise_scale != 1.0:
        metadata |= _appearance_metadata(look, offset, gain, noise_sd, grid)
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
