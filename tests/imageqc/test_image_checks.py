"""Slice thickness against the study's limit, and the same findings whatever the stored axis directions."""

import numpy as np
import SimpleITK as sitk

from imageqc import IMAGE, image_qc, sides_qc
from imageqc.flags import THICK_SLICES


def test_slices_thicker_than_the_study_allows_make_both_sides_not_assessable(clean_cases):
    case = clean_cases[0]
    result = image_qc(case.image, slice_thickness_mm=5.0, max_slice_thickness_mm=3.0)
    assert [(f.code, f.side) for f in result.flags] == [(THICK_SLICES, IMAGE)]
    assert "5 mm" in result.flags[0].reason and "3 mm" in result.flags[0].reason
    assert not any(v.assessable for v in sides_qc(result, case.label).values())


def test_the_slice_spacing_stands_in_for_an_unstated_thickness(clean_cases):
    case = clean_cases[0]  # 1.25 mm slices
    assert image_qc(case.image, max_slice_thickness_mm=1.0).flags[0].code == THICK_SLICES
    assert image_qc(case.image, max_slice_thickness_mm=1.25).flags == []


def test_a_ct_stored_with_its_x_axis_reversed_gives_the_same_sides(prosthesis_cases):
    case = prosthesis_cases[0]
    flipped_image, flipped_label = (_reverse_x(image) for image in (case.image, case.label))
    original = sides_qc(image_qc(case.image), case.label)
    reversed_ = sides_qc(image_qc(flipped_image), flipped_label)
    assert {s: v.assessable for s, v in original.items()} == {s: v.assessable for s, v in reversed_.items()}
    assert {s: [f.code for f in v.flags] for s, v in original.items()} == {
        s: [f.code for f in v.flags] for s, v in reversed_.items()
    }


def _reverse_x(image: sitk.Image) -> sitk.Image:
    """The same patient in the same place, stored with x running right-to-left (direction -1 on x)."""
    array = sitk.GetArrayFromImage(image)[:, :, ::-1]
    out = sitk.GetImageFromArray(np.ascontiguousarray(array))
    out.SetSpacing(image.GetSpacing())
    last = image.TransformIndexToPhysicalPoint((image.GetSize()[0] - 1, 0, 0))
    out.SetOrigin((last[0], image.GetOrigin()[1], image.GetOrigin()[2]))
    out.SetDirection((-1.0, 0, 0, 0, 1.0, 0, 0, 0, 1.0))
    return out
