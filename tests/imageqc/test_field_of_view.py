"""A CT with no femur in it (an upper-abdominal field of view) gives "no femur in the field of view" on both
sides, before any model looks at it and after one has (the issue's liver-level CT: "femurs" of 15 and 7
voxels), and so no class."""

import numpy as np
import SimpleITK as sitk

from imageqc import image_qc, sides_qc
from imageqc.flags import FEMUR_CUT, NO_FEMUR


def specks(like: sitk.Image, sizes: dict[int, int]) -> sitk.Image:
    """A label image holding a few stray voxels per label, as the issue's model gave on a liver-level CT."""
    array = np.zeros(like.GetSize()[::-1], np.uint8)
    centre = np.array(array.shape) // 2
    for label, count in sizes.items():
        x = centre[2] + (20 if label == 1 else -20)
        array[centre[0], centre[1], x : x + count] = label
    mask = sitk.GetImageFromArray(array)
    mask.CopyInformation(like)
    return mask


def test_an_upper_abdominal_ct_has_no_femur_in_its_field_of_view(upper_abdomen):
    flags = image_qc(upper_abdomen()).flags
    assert {(f.code, f.side) for f in flags} == {(NO_FEMUR, "left"), (NO_FEMUR, "right")}
    assert all("no femur in the field of view" in f.reason for f in flags)


def test_a_few_stray_voxels_there_leave_both_sides_not_assessable(upper_abdomen):
    image = upper_abdomen(index=1)
    verdicts = sides_qc(image_qc(image), specks(image, {1: 15, 2: 7}))
    for side, verdict in verdicts.items():
        assert not verdict.assessable
        assert any("no femur in the field of view" in reason for reason in verdict.reasons), side
        assert verdict.as_dict()["assessable"] is False


def test_a_scan_whose_top_slice_cuts_the_femur_says_so(clean_cases):
    case = clean_cases[0]
    label = sitk.GetArrayViewFromImage(case.label)
    middle = int(np.mean(np.nonzero(label == 1)[0]))
    cut = case.image[:, :, :middle]
    found = image_qc(cut)
    assert {f.code for f in found.flags} == {FEMUR_CUT}  # the image check alone already sees it
    verdicts = sides_qc(found, case.label[:, :, :middle])
    assert all(any(f.code == FEMUR_CUT and "top" in f.reason for f in v.flags) for v in verdicts.values())
