import numpy as np
import SimpleITK as sitk

from phantom.rois import tissue_rois

# Mean CT numbers at 120 kVp expected in each tissue ROI, HU: fat and muscle from unenhanced abdominal CT
# (Lamba R et al., Abdom Imaging 2014;39:1117-1123: fat about -100, skeletal muscle about 40-50), allowing
# for the scanners' calibration offsets (up to 6 HU); cortical diaphysis after a ~1 mm blur (about
# 1000-1900); femoral-neck trabecular bone from fatty osteoporotic to young dense bone (about 0-400).
EXPECTED_HU = {"fat": (-125, -75), "muscle": (25, 70), "cortex": (950, 1900), "trabecular": (-20, 400)}


def test_tissues_have_their_ct_numbers(hip_cases):
    for case in hip_cases:
        pixels = sitk.GetArrayViewFromImage(case.image).reshape(-1)
        for tissue, roi in tissue_rois(case).items():
            assert roi.size > 20, tissue
            low, high = EXPECTED_HU[tissue]
            assert low <= pixels[roi].mean() <= high, (tissue, pixels[roi].mean())


def test_noise_is_low_dose_strength(hip_cases):
    for case in hip_cases:
        pixels = sitk.GetArrayViewFromImage(case.image).reshape(-1)
        muscle = pixels[tissue_rois(case)["muscle"]].astype(float)
        assert 10 <= muscle.std() <= 40


def test_noise_is_spatially_correlated_like_ct_noise(fine_case):
    # At 0.7-0.9 mm pixels, neighbours share the kernel's and iterative reconstruction's blur.
    pixels = sitk.GetArrayViewFromImage(fine_case.image).reshape(-1).astype(float)
    roi = tissue_rois(fine_case)["muscle"]
    assert np.corrcoef(pixels[roi], pixels[roi + 1])[0, 1] > 0.3
