"""The randomised appearance: its draws stay within the stated ranges (drawn without rendering, over many
seeds), it changes nothing of the study appearance, and a randomised case renders with labels that sit on
its femurs."""

import dataclasses

import numpy as np
import pytest
import SimpleITK as sitk

from phantom import appearance as ap
from phantom.anatomy import LEFT, RIGHT
from phantom.case import CaseOptions, generate_case
from phantom.texture import Architecture
from voi.labels import LEFT as LEFT_LABEL
from voi.labels import RIGHT as RIGHT_LABEL

SEEDS = 2000


@pytest.fixture(scope="module")
def draws():
    return [ap.draw_appearance("randomised", ap.appearance_rng(seed, 0)) for seed in range(SEEDS)]


def _within(values, bounds):
    values = np.array([v for v in values if v is not None], dtype=float)
    return values.size > 0 and bounds[0] <= values.min() and values.max() <= bounds[1]


@pytest.mark.parametrize(
    ("name", "bounds"),
    [
        ("trabecular_hu", ap.TRABECULAR_HU),
        ("cortex_hu", ap.CORTEX_HU),
        ("fwhm_mm", ap.FWHM_MM),
        ("nps_peak_per_mm", ap.NPS_PEAK_PER_MM),
        ("noise_sd_hu", ap.NOISE_SD_HU),
        ("slice_mm", ap.SLICE_MM),
        ("pixel_mm", ap.PIXEL_MM),
        ("fov_to_body", ap.FOV_TO_BODY),
        ("fat_scale", ap.FAT_SCALE),
        ("artery_hu", ap.ARTERY_HU),
        ("vein_hu", ap.VEIN_HU),
        ("bottom_below_voi_mm", ap.BOTTOM_BELOW_VOI_MM),
        ("top_fraction", (0.0, 1.0)),
    ],
)
def test_every_randomised_draw_stays_within_its_stated_range(draws, name, bounds):
    assert _within([getattr(d, name) for d in draws], bounds)


def test_the_draws_cover_their_ranges_rather_than_one_corner(draws):
    for name, (low, high) in (
        ("trabecular_hu", ap.TRABECULAR_HU),
        ("cortex_hu", ap.CORTEX_HU),
        ("slice_mm", ap.SLICE_MM),
    ):
        values = np.array([getattr(d, name) for d in draws])
        span = high - low
        assert values.min() < low + 0.05 * span and values.max() > high - 0.05 * span, name


def test_tissue_numbers_stay_within_real_ct(draws):
    assert _within([d.tissues.fat for d in draws], ap.FAT_HU)
    assert _within([d.tissues.muscle for d in draws], ap.MUSCLE_HU)
    assert _within([d.tissues.table_shell for d in draws], ap.TABLE_SHELL_HU)
    assert _within([d.tissues.table_foam for d in draws], ap.TABLE_FOAM_HU)
    assert _within(
        [d.tissues.fat_spread for d in draws] + [d.tissues.muscle_spread for d in draws], ap.TISSUE_SPREAD_HU
    )
    walls = [d.tissues.bowel_wall for d in draws]
    contrast = [d.bowel_contrast_hu for d in draws if d.bowel_contrast_hu is not None]
    assert _within([w for w in walls if w not in contrast], ap.MUSCLE_HU) and _within(
        contrast, ap.BOWEL_CONTRAST_HU
    )


def test_anatomy_ranges_widen_the_study_ones(draws):
    assert _within([d.anatomy.head_scale for d in draws], ap.HEAD_SCALE)
    wide = draws[0].anatomy
    assert (
        wide.neck_shaft_deg[0]
        < ap.STUDY_RANGES.neck_shaft_deg[0]
        < ap.STUDY_RANGES.neck_shaft_deg[1]
        < wide.neck_shaft_deg[1]
    )
    assert wide.anteversion_deg[0] < ap.STUDY_RANGES.anteversion_deg[0]
    assert wide.joint_space_mm == ap.JOINT_SPACE_MM


@pytest.mark.parametrize(
    ("name", "probability"),
    [
        ("arms_in_field", ap.ARMS_IN_FIELD_PROBABILITY),
        ("nail", ap.NAIL_PROBABILITY),
        ("bowel_contrast_hu", ap.BOWEL_CONTRAST_PROBABILITY),
        ("artery_hu", ap.VESSEL_CONTRAST_PROBABILITY),
    ],
)
def test_optional_findings_appear_in_about_their_stated_share(draws, name, probability):
    share = np.mean([bool(getattr(d, name)) for d in draws])
    assert abs(share - probability) < 0.04, share


@pytest.mark.parametrize("bv_tv", [0.025, 0.1, 0.3])
@pytest.mark.parametrize("target", [50.0, 120.0, 250.0, 400.0])
def test_the_medulla_reaches_any_drawn_mean_with_plausible_marrow_and_struts(target, bv_tv):
    marrow, strut, fraction = ap.medulla_hu(target, bv_tv)
    assert marrow + (strut - marrow) * fraction == pytest.approx(target, abs=0.5)
    assert (
        ap.MARROW_HU[0] <= marrow <= ap.MARROW_HU[1] and ap.BONE_TISSUE_HU[0] <= strut <= ap.BONE_TISSUE_HU[1]
    )
    assert fraction >= bv_tv
    Architecture.for_bone_fraction(fraction, 0.0)  # the texture can build that fraction


def test_the_study_appearance_draws_nothing():
    assert ap.draw_appearance("study", ap.appearance_rng(0, 0)) is ap.STUDY
    with pytest.raises(ValueError):
        CaseOptions(appearance="cartoon")


@pytest.fixture(scope="module")
def randomised_cases():
    options = CaseOptions(matrix=128, appearance="randomised", readers=False, exclusion="")
    return [generate_case(seed=31, index=i, options=options) for i in range(3)]


def _voxel(case, point):
    return case.label.TransformPhysicalPointToIndex(tuple(float(v) for v in point))


def test_a_randomised_case_labels_each_femur_where_its_head_is(randomised_cases):
    for case in randomised_cases:
        label = sitk.GetArrayViewFromImage(case.label)
        for side, value in ((LEFT, LEFT_LABEL), (RIGHT, RIGHT_LABEL)):
            x, y, z = _voxel(case, case.anatomy.femur(side).head_centre)
            assert label[z, y, x] == value
            xs = np.nonzero(label == value)[2]
            centre_x = case.label.TransformIndexToPhysicalPoint((int(xs.mean()), 0, 0))[0]
            assert np.sign(centre_x - case.anatomy.pose.shift[0]) == side  # the patient's left at +x (LPS)


def test_a_randomised_case_uses_its_drawn_grid_and_bone_is_brighter_than_soft_tissue(randomised_cases):
    spacings = {round(c.image.GetSpacing()[2], 2) for c in randomised_cases}
    assert len(spacings) == 3 and all(ap.SLICE_MM[0] <= s <= ap.SLICE_MM[1] for s in spacings)
    for case in randomised_cases:
        image, label = sitk.GetArrayViewFromImage(case.image), sitk.GetArrayViewFromImage(case.label)
        assert case.metadata["appearance"] == "randomised"
        assert np.median(image[label > 0]) > np.median(image[(image > -200) & (image < 100)])


def _forced(monkeypatch, **fields):
    """Randomised draws with some fields forced, so a rare finding can be rendered on purpose."""
    import phantom.case as case_module

    draw = ap.draw_appearance
    monkeypatch.setattr(
        case_module, "draw_appearance", lambda name, rng: dataclasses.replace(draw(name, rng), **fields)
    )


def test_a_nail_is_metal_with_streaks_and_leaves_the_femurs_labels_as_they_were(monkeypatch):
    options = CaseOptions(matrix=96, appearance="randomised", readers=False, exclusion="")
    _forced(monkeypatch, nail=False, arms_in_field=True, artery_hu=300.0, vein_hu=180.0)
    plain = generate_case(seed=8, index=0, options=options)
    _forced(monkeypatch, nail=True, arms_in_field=True, artery_hu=300.0, vein_hu=180.0)
    nailed = generate_case(seed=8, index=0, options=options)
    assert (
        sitk.GetArrayViewFromImage(nailed.label).tobytes()
        == sitk.GetArrayViewFromImage(plain.label).tobytes()
    )
    image, before = sitk.GetArrayViewFromImage(nailed.image), sitk.GetArrayViewFromImage(plain.image)
    assert image.max() > 3000 and before.max() < 3000
    far_from_metal = np.abs(image.astype(float) - before)[image < 2000]
    assert np.percentile(far_from_metal, 99.9) > 50  # streaks reach beyond the metal itself


def test_the_command_line_writes_a_randomised_cohort(tmp_path):
    from phantom.__main__ import main

    assert (
        main(
            [
                "--cases",
                "2",
                "--seed",
                "1",
                "--out",
                str(tmp_path),
                "--matrix",
                "48",
                "--appearance",
                "randomised",
                "--calibration",
                "spread",
                "--no-readers",
            ]
        )
        == 0
    )
    rows = (tmp_path / "manifest.csv").read_text().splitlines()[1:]
    thickness = {row.split(",")[7] for row in rows}
    assert len(rows) == 2 and thickness != {"1.25"}


def _femur_cm3(case) -> float:
    voxel_mm3 = float(np.prod(case.label.GetSpacing()))
    return float((sitk.GetArrayViewFromImage(case.label) > 0).sum()) * voxel_mm3 / 1000.0


def test_thick_slices_average_thin_ones_and_keep_the_femurs_volume():
    base = {
        "matrix": 96,
        "region": "hips",
        "readers": False,
        "exclusion": "",
        "noise_scale": 0.1,
    }  # anatomy, not noise
    thin = generate_case(seed=9, index=0, options=CaseOptions(**base))
    averaged = generate_case(
        seed=9, index=0, options=CaseOptions(**base, slice_mm=5.0, z_partial_volume=True)
    )
    sampled = generate_case(
        seed=9, index=0, options=CaseOptions(**base, slice_mm=5.0, z_partial_volume=False)
    )
    assert averaged.image.GetSpacing()[2] == 5.0 and averaged.image.GetOrigin() == sampled.image.GetOrigin()
    assert _femur_cm3(averaged) == pytest.approx(_femur_cm3(thin), rel=0.06)

    def step(case):  # mean change from one slice to the next, in HU
        return np.abs(np.diff(sitk.GetArrayViewFromImage(case.image).astype(float), axis=0)).mean()

    # Partial volume: a thick slice holds the mean of its sub-slices, so slice-to-slice changes are smaller
    # than between point samples 5 mm apart.
    assert step(averaged) < 0.95 * step(sampled)  # 0.84 when written


def test_the_in_plane_field_of_view_may_cut_the_body_but_never_a_femur(monkeypatch):
    _forced(monkeypatch, fov_to_body=ap.FOV_TO_BODY[0], fat_scale=ap.FAT_SCALE[0])  # the tightest field
    options = CaseOptions(matrix=96, appearance="randomised", readers=False, exclusion="", region="hips")
    for index in range(30):
        label = sitk.GetArrayFromImage(generate_case(seed=12, index=index, options=options).label)  # a copy
        assert not (
            label[:, :, 0].any() or label[:, :, -1].any() or label[:, 0, :].any() or label[:, -1, :].any()
        )
