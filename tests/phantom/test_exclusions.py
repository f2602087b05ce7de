import numpy as np
import pytest
import SimpleITK as sitk

from phantom.case import CaseOptions, generate_case


def _case(reason, index=0, matrix=128):
    return generate_case(
        seed=31, index=index, options=CaseOptions(matrix=matrix, region="hips", exclusion=reason)
    )


def test_a_hip_replacement_shows_metal_over_3000_hu_and_loses_that_sides_voi():
    case = _case("hip_replacement")
    assert case.metadata["exclusion_reason"] == "hip_replacement"
    assert sitk.GetArrayViewFromImage(case.image).max() > 3000
    assert len(set(np.unique(sitk.GetArrayViewFromImage(case.label))) - {0}) == 1


def test_an_incomplete_scan_stops_above_the_lesser_trochanters():
    case = _case("incomplete_ct")
    bottom = case.grid.origin[2]
    assert all(bottom > f.voi_bottom_z + 5 for f in case.anatomy.femurs)


@pytest.mark.parametrize("reason", ["hip_fracture", "bone_metastases", "extraosseous_metastases"])
def test_other_exclusions_are_generated_and_reported(reason):
    case = _case(reason, matrix=96)
    assert case.metadata["exclusion_reason"] == reason
    assert case.image.GetSize()[0] == 96


def test_the_exclusion_fraction_sets_how_many_cases_are_excluded():
    options = CaseOptions(matrix=32, region="left_neck", readers=False, exclusion_fraction=0.3)
    reasons = [
        generate_case(seed=5, index=i, options=options).metadata["exclusion_reason"] for i in range(60)
    ]
    assert 8 <= sum(bool(r) for r in reasons) <= 30


def test_osteophytes_are_bone_in_the_image_but_not_in_the_voi():
    for index in range(40):
        case = generate_case(
            seed=32, index=index, options=CaseOptions(matrix=512, region="hips", exclusion="")
        )
        femur = case.anatomy.femurs[0]
        if femur.osteophytes:
            break
    else:
        pytest.fail("no case with osteophytes in 40 draws")
    grid, labels = case.grid, sitk.GetArrayViewFromImage(case.label)
    pixels = sitk.GetArrayViewFromImage(case.image)
    for centre, radius in femur.osteophytes:
        # The tip of the spur, away from the femur's surface: bright bone, outside the label.
        tip = (
            centre + (centre - femur.head_centre) / np.linalg.norm(centre - femur.head_centre) * radius * 0.6
        )
        tip_voxel = tuple(int(round((tip[a] - grid.origin[a]) / grid.spacing[a])) for a in (2, 1, 0))
        assert labels[tip_voxel] == 0
    assert pixels.max() > 300
