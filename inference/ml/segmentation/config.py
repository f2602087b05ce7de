"""Training and inference settings of the two cascade stages, and the named configurations."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

# The paper's optimiser settings (method.md, "Automatic segmentation"): Adam, lr 1e-4, batch 8, 1001 epochs.
PAPER_LEARNING_RATE = 1e-4
PAPER_BATCH_SIZE = 8
PAPER_EPOCHS = 1001
# Model 1 sees the whole CT at 3 mm, model 2 a crop at 1 mm (method.md).
COARSE_SPACING_MM = 3.0
FINE_SPACING_MM = 1.0
# A window that keeps every bone value and the fat/muscle contrast around the hip; wider windows only add
# air and metal, which carry no information about where the femur ends.
HU_WINDOW = (-200.0, 1600.0)


@dataclass(frozen=True)
class StageConfig:
    """How one stage of the cascade is built and trained.

    Args:
        spacing_mm: isotropic voxel size the stage works at.
        patch_size: training patch and sliding-window size in voxels (each a multiple of 2**depth).
        base_width, depth, norm: the VB-Net's arguments.
        epochs: passes over the training cases; one epoch draws patches_per_case patches per case.
        foreground_fraction: share of patches centred on the femur; the rest are centred anywhere.
        margin_mm: margin added around the femur's bounding box when the fine stage crops (fine only).
        loss: "focal" or "dice_focal".
        scale_jitter, shift_hu: light augmentation (relative zoom range, intensity shift in HU).
        hu_scale, hu_shift: histogram augmentation of the CT channel as if applied to HU before windowing:
            HU * (1 + U(-hu_scale, hu_scale)) + U(-hu_shift, hu_shift), then the window's clip (0: off).
        gamma: log-range of a gamma curve on the windowed intensities, gamma = exp(U(-gamma, gamma)) (0: off).
        bias_field: amplitude of a smooth multiplicative field, 1 + bias_field * U(-1, 1) at a 3 x 3 x 3 grid
            of control points interpolated over the patch (0: off).
        mirror: probability that a training patch is mirrored left-right.
        validate_every: epochs between validation passes (the last epoch is always validated).
        sliding_overlap: overlap of neighbouring windows at inference (0 = tiled, 0.5 = half a window).
        window_size: sliding-window size at inference; the network is fully convolutional, so a window
            larger than the training patch costs fewer window borders. None means patch_size.
    """

    spacing_mm: float
    patch_size: tuple[int, int, int]
    base_width: int
    depth: int
    epochs: int
    norm: str = "batch"
    patches_per_case: int = 8
    batch_size: int = PAPER_BATCH_SIZE
    learning_rate: float = PAPER_LEARNING_RATE
    foreground_fraction: float = 0.67
    margin_mm: float = 12.0
    loss: str = "dice_focal"
    scale_jitter: float = 0.1
    shift_hu: float = 30.0
    mirror: float = 0.5
    hu_scale: float = 0.0
    hu_shift: float = 0.0
    gamma: float = 0.0
    bias_field: float = 0.0
    validate_every: int = 1
    sliding_overlap: float = 0.25
    window_size: tuple[int, int, int] | None = None

    def __post_init__(self) -> None:
        multiple = 2**self.depth
        for name in ("patch_size", "window_size"):
            size = getattr(self, name)
            if size is not None and (len(size) != 3 or any(s <= 0 or s % multiple for s in size)):
                raise ValueError(f"{name} must be 3 positive multiples of {multiple}, got {size}")
        if self.epochs < 1 or self.batch_size < 1 or self.patches_per_case < 1:
            raise ValueError("epochs, batch_size and patches_per_case must be positive")
        if not 0.0 <= self.foreground_fraction <= 1.0 or not 0.0 <= self.sliding_overlap < 1.0:
            raise ValueError("foreground_fraction must lie in [0, 1] and sliding_overlap in [0, 1)")
        if not 0.0 <= self.mirror <= 1.0:
            raise ValueError(f"mirror must lie in [0, 1], got {self.mirror}")
        if not (
            0.0 <= self.hu_scale < 0.5
            and 0.0 <= self.hu_shift <= 500.0
            and 0.0 <= self.gamma <= 1.0
            and 0.0 <= self.bias_field < 0.5
        ):
            raise ValueError(
                "intensity augmentation must satisfy 0 <= hu_scale < 0.5, 0 <= hu_shift <= 500 HU, "
                "0 <= gamma <= 1 and 0 <= bias_field < 0.5"
            )
        if self.loss not in ("focal", "dice_focal"):
            raise ValueError(f"loss must be 'focal' or 'dice_focal', got {self.loss!r}")

    @property
    def inference_window(self) -> tuple[int, int, int]:
        # Unpacking keeps the old tuple() conversion of a list (a hand-built config) and states the length.
        depth, height, width = self.window_size or self.patch_size
        return depth, height, width


@dataclass(frozen=True)
class SegmentationConfig:
    """Both stages plus what the whole run shares (seed, intensity window)."""

    name: str
    coarse: StageConfig
    fine: StageConfig
    seed: int = 0
    hu_window: tuple[float, float] = HU_WINDOW
    split_id: int | None = None
    extra: dict = field(default_factory=dict)
    # Domain randomisation (issue 15): this many phantom cases of the randomised appearance (randomised.py)
    # are mixed into the training cases. They share each epoch's patches with the cohort's cases (an epoch's
    # length still follows the cohort), so they cost their generation, not longer epochs. 0: none.
    randomised_cases: int = 0
    randomised_matrix: int = 512  # the largest matrix; the pixel size is drawn (0.5-1.5 mm) as real CT has it

    def __post_init__(self) -> None:
        if not (0 <= self.randomised_cases <= 200 and 32 <= self.randomised_matrix <= 512):
            raise ValueError(
                "randomised_cases must lie in 0-200 and randomised_matrix in 32-512, got "
                f"{self.randomised_cases} and {self.randomised_matrix}"
            )

    def as_dict(self) -> dict:
        return asdict(self)

    def with_overrides(self, **changes) -> SegmentationConfig:
        return replace(self, **changes)

    @classmethod
    def from_dict(cls, data: dict) -> SegmentationConfig:
        rest = {k: v for k, v in data.items() if k not in ("coarse", "fine")}
        rest["hu_window"] = tuple(rest.get("hu_window", HU_WINDOW))
        return cls(**rest, coarse=_stage_from_dict(data["coarse"]), fine=_stage_from_dict(data["fine"]))


def _stage_from_dict(data: dict) -> StageConfig:
    """A stage from as_dict()'s output, where JSON or torch.load may have turned the sizes into lists."""
    window = data.get("window_size")
    return StageConfig(
        **{**data, "patch_size": tuple(data["patch_size"]), "window_size": window and tuple(window)}
    )


# Small and fast: trains on 2 CPU cores in minutes (bench/train_segmentation_demo.py measures it). It departs
# from the paper where a few hundred steps must do the work of 1001 epochs: a 20x learning rate, small
# networks (width 8, depth 3) and 32-voxel patches, which the phantom's contrast allows. This one learns from
# the cohort's look alone; DEMO below adds domain randomisation.
DEMO_LEARNING_RATE = 2e-3
DEMO_STUDY_LOOK = SegmentationConfig(
    name="demo_study_look",
    # One window holds a 384 x 480 x 480 mm field at 3 mm: the whole CT in one pass, no window borders.
    coarse=StageConfig(
        spacing_mm=COARSE_SPACING_MM,
        patch_size=(32, 32, 32),
        window_size=(128, 160, 160),
        base_width=8,
        depth=3,
        epochs=15,
        patches_per_case=8,
        foreground_fraction=0.5,
        learning_rate=DEMO_LEARNING_RATE,
        validate_every=5,
    ),
    fine=StageConfig(
        spacing_mm=FINE_SPACING_MM,
        patch_size=(32, 32, 32),
        window_size=(64, 64, 64),
        base_width=8,
        depth=3,
        epochs=30,
        patches_per_case=8,
        learning_rate=DEMO_LEARNING_RATE,
        validate_every=10,
    ),
)

# The paper's settings: VB-Net of vbnet.md (width 16, depth 4), 1001 epochs of each stage.
PAPER = SegmentationConfig(
    name="paper",
    coarse=StageConfig(
        spacing_mm=COARSE_SPACING_MM,
        patch_size=(96, 96, 96),
        base_width=16,
        depth=4,
        epochs=PAPER_EPOCHS,
        norm="batch",
        foreground_fraction=0.5,
    ),
    fine=StageConfig(
        spacing_mm=FINE_SPACING_MM,
        patch_size=(96, 96, 96),
        base_width=16,
        depth=4,
        epochs=PAPER_EPOCHS,
        norm="batch",
        validate_every=10,
    ),
)

# Intensity augmentation against scanner and protocol differences (issue 15): histogram scale of +/-10 % and
# shift of +/-60 HU (calibration, kVp and contrast phase move bone by tens of HU), gamma 0.74-1.35 and a
# +/-10 % smooth bias field (beam hardening, cupping), in the spirit of SynthSeg (Billot B et al., Med Image
# Anal 2023) and nnU-Net's default augmentation (Isensee F et al., Nat Methods 2021;18:203-211).
ROBUST_HU_SCALE, ROBUST_HU_SHIFT, ROBUST_GAMMA, ROBUST_BIAS_FIELD = 0.1, 60.0, 0.3, 0.1


# Randomised phantom cases mixed into the demo's training: 12 beside the demo cohort's ~40 training cases, so
# about a fifth of each epoch's patches show a look the cohort never has (any tissue HU, kernel, noise, slice
# and pixel size, field of view, arms, contrast, metal, body size, anatomy: phantom/appearance.py).
DEMO_RANDOMISED_CASES = 12


def _with_robust_intensity(stage: StageConfig) -> StageConfig:
    return replace(
        stage,
        hu_scale=ROBUST_HU_SCALE,
        hu_shift=ROBUST_HU_SHIFT,
        gamma=ROBUST_GAMMA,
        bias_field=ROBUST_BIAS_FIELD,
    )


# The demo: the design above, trained on the cohort plus randomised phantoms with intensity augmentation, so
# that no appearance is a shortcut (SynthSeg's idea; bench/bench_robust_segmentation.py compares the two).
DEMO = DEMO_STUDY_LOOK.with_overrides(
    name="demo",
    coarse=_with_robust_intensity(DEMO_STUDY_LOOK.coarse),
    fine=_with_robust_intensity(DEMO_STUDY_LOOK.fine),
    randomised_cases=DEMO_RANDOMISED_CASES,
)

CONFIGURATIONS = {"demo": DEMO, "demo_study_look": DEMO_STUDY_LOOK, "paper": PAPER}


def configuration(name: str) -> SegmentationConfig:
    """The named configuration (CONFIGURATIONS); ValueError for any other name."""
    try:
        return CONFIGURATIONS[name]
    except KeyError:
        raise ValueError(
            f"unknown segmentation configuration {name!r}; choose from {sorted(CONFIGURATIONS)}"
        ) from None
