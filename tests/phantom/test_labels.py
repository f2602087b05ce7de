import numpy as np
import SimpleITK as sitk

# Plausible volume of one proximal-femur VOI (head down to the lesser trochanter), cm3. Basis: the head
# alone is 34-87 cm3 for the adult diameters of 40-55 mm (Noble PC et al. Clin Orthop 1988;235:148-165;
# 4/3 pi r^3), and neck plus trochanteric region add roughly as much again, so 60-260 cm3 brackets adults
# of both sexes; integral proximal-femur VOIs in QCT studies are of this order (Lang TF et al., Bone
# 1997;21:101-108).
VOI_CM3 = (60.0, 260.0)
# Interobserver Dice of the paper's two readers: 0.989 +/- 0.002; we accept the 0.975-0.995.
READER_DICE = (0.975, 0.995)


def _world_x_centroid(image, label_array, value):
    zi, yi, xi = np.nonzero(label_array == value)
    return image.GetOrigin()[0] + xi.mean() * image.GetSpacing()[0]


def test_labels_are_background_left_and_right_only(hip_cases):
    for case in hip_cases:
        assert set(np.unique(sitk.GetArrayViewFromImage(case.label))) == {0, 1, 2}


def test_the_left_femur_is_on_the_plus_x_side_of_the_patient(hip_cases):
    for case in hip_cases:
        labels = sitk.GetArrayViewFromImage(case.label)
        midline = case.anatomy.pose.shift[0]
        assert _world_x_centroid(case.label, labels, 1) > midline + 40
        assert _world_x_centroid(case.label, labels, 2) < midline - 40


def test_images_are_canonical_lps_int16_and_masks_share_their_grid(hip_cases):
    case = hip_cases[0]
    assert case.image.GetPixelID() == sitk.sitkInt16 and case.label.GetPixelID() == sitk.sitkUInt8
    assert case.image.GetDirection() == (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)
    for other in (case.label, *case.reader_labels):
        assert other.GetSize() == case.image.GetSize() and other.GetOrigin() == case.image.GetOrigin()


def test_each_femur_voi_has_a_physiological_volume(hip_cases):
    for case in hip_cases:
        labels = sitk.GetArrayViewFromImage(case.label)
        voxel_cm3 = np.prod(case.image.GetSpacing()) / 1000.0
        for value in (1, 2):
            assert VOI_CM3[0] <= np.count_nonzero(labels == value) * voxel_cm3 <= VOI_CM3[1]


def test_the_voi_stops_at_the_lesser_trochanter(hip_cases):
    for case in hip_cases:
        labels = sitk.GetArrayViewFromImage(case.label)
        for value, femur in ((1, case.anatomy.femurs[0]), (2, case.anatomy.femurs[1])):
            lowest = np.nonzero((labels == value).any(axis=(1, 2)))[0].min()
            z = case.grid.origin[2] + lowest * case.grid.spacing[2]
            assert femur.voi_bottom_z - 0.01 <= z <= femur.voi_bottom_z + case.grid.spacing[2]


def test_two_readers_agree_like_the_papers_readers(fine_case):
    a, b = (sitk.GetArrayViewFromImage(r) for r in fine_case.reader_labels)
    for value in (1, 2):
        dice = (
            2
            * np.count_nonzero((a == value) & (b == value))
            / (np.count_nonzero(a == value) + np.count_nonzero(b == value))
        )
        assert READER_DICE[0] <= dice <= READER_DICE[1]
