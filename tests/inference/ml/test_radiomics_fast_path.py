"""The fast radiomics path gives pyradiomics' own numbers, feature by feature."""

import logging

import numpy as np
import pytest
import SimpleITK as sitk
from radiomics import getFeatureClasses

from inference.ml.radiomics import (
    SIDE_LABELS,
    extract_features,
    extract_features_plain,
    extract_sides,
    load_settings,
    settings_from_dict,
)

logging.getLogger("radiomics").setLevel(logging.ERROR)

# Equality is asked to this relative difference over every feature (the figure).
MAX_RELATIVE_DIFFERENCE = 1e-9


def tiny_hips(*, spacing=(0.7, 0.7, 1.25), size=(64, 40, 36), seed=0, dtype=sitk.sitkInt16):
    """Two textured bony balls in soft tissue: label 1 on the +x side (patient's left), 2 on the -x side."""
    rng = np.random.default_rng(seed)
    z, y, x = np.meshgrid(
        *(np.arange(n) * s for n, s in zip(size[::-1], spacing[::-1], strict=True)), indexing="ij"
    )
    hu = 40 + rng.normal(0, 15, x.shape)
    label = np.zeros(x.shape, np.uint8)
    centre_y, centre_z = y.max() / 2, z.max() / 2
    for value, centre_x in ((1, x.max() * 0.72), (2, x.max() * 0.28)):
        distance = np.sqrt((x - centre_x) ** 2 + (y - centre_y) ** 2 + (z - centre_z) ** 2)
        bone = distance < 9.0
        hu[bone] = 250 + 300 * rng.standard_normal(bone.sum()).clip(-1, 2)
        hu[bone & (distance > 7.5)] = 1100
        label[bone] = value
    image = sitk.GetImageFromArray(hu.round().astype(np.int16))
    image = sitk.Cast(image, dtype)
    mask = sitk.GetImageFromArray(label)
    for volume in (image, mask):
        volume.SetSpacing(spacing)
        volume.SetOrigin((-20.0, 35.5, 102.25))
    return image, mask


def reduced_settings():
    """The paper's settings with one LoG sigma, to keep the test short; every feature class stays."""
    params = load_settings().as_dict()
    params["imageType"]["LoG"] = {"sigma": [2.0]}
    return settings_from_dict(params)


def max_relative_difference(fast, plain):
    names = list(plain.features)
    a = np.array([fast.features[name] for name in names])
    b = np.array([plain.features[name] for name in names])
    same = (a == b) | (np.isnan(a) & np.isnan(b))
    return float(np.max(np.where(same, 0.0, np.abs(a - b) / np.maximum(np.abs(b), 1e-300)), initial=0.0))


def expected_feature_count(settings):
    """Shape once, plus every non-deprecated non-shape feature for each image the settings make."""
    classes = getFeatureClasses()
    enabled = lambda name: sum(not deprecated for deprecated in classes[name].getFeatureNames().values())  # noqa: E731
    per_image = sum(enabled(name) for name in settings.params["featureClass"] if name != "shape")
    image_types = settings.params["imageType"]
    images = ("Original" in image_types) + 8 * ("Wavelet" in image_types)
    images += len(image_types.get("LoG", {}).get("sigma", []))
    return enabled("shape") + images * per_image


@pytest.mark.parametrize("label", [SIDE_LABELS["left"], SIDE_LABELS["right"]])
@pytest.mark.parametrize(
    "spacing, dtype",
    [
        ((0.7, 0.7, 1.25), sitk.sitkInt16),
        ((0.6, 0.6, 0.6), sitk.sitkInt16),
        ((0.8, 0.8, 1.5), sitk.sitkFloat32),
    ],
    ids=["ldct-int16", "grid-meets-voxels", "float"],
)
def test_fast_path_equals_pyradiomics_on_every_feature(label, spacing, dtype):
    image, mask = tiny_hips(spacing=spacing, dtype=dtype)
    settings = reduced_settings()
    fast = extract_features(image, mask, label=label, settings=settings)
    plain = extract_features_plain(image, mask, label=label, settings=settings)
    assert list(fast.features) == list(plain.features)
    assert max_relative_difference(fast, plain) <= MAX_RELATIVE_DIFFERENCE


def test_fast_path_with_the_full_paper_settings_equals_pyradiomics():
    image, mask = tiny_hips(size=(56, 36, 32), seed=3)
    settings = load_settings()
    fast = extract_features(image, mask, label=1, settings=settings)
    plain = extract_features_plain(image, mask, label=1, settings=settings)
    assert len(fast) == expected_feature_count(settings)
    assert list(fast.features) == list(plain.features)
    assert max_relative_difference(fast, plain) <= MAX_RELATIVE_DIFFERENCE


def test_parallel_workers_give_the_same_numbers_as_one_process():
    image, mask = tiny_hips(seed=5)
    settings = reduced_settings()
    serial = extract_features(image, mask, label=2, settings=settings, workers=1)
    parallel = extract_features(image, mask, label=2, settings=settings, workers=2)
    assert serial.features == parallel.features


def test_it_measures_each_side_asked_for_with_provenance():
    image, mask = tiny_hips()
    settings = reduced_settings()
    vectors = extract_sides(image, mask, sides=["right"], settings=settings)
    assert list(vectors) == ["right"]
    provenance = vectors["right"].provenance
    assert provenance.label == SIDE_LABELS["right"]
    assert provenance.settings_hash == settings.settings_hash
    assert provenance.pyradiomics_version and provenance.numpy_version and provenance.simpleitk_version
    assert all(isinstance(value, float) for value in vectors["right"].features.values())


def test_the_two_sides_differ():
    image, mask = tiny_hips(seed=1)
    vectors = extract_sides(image, mask, settings=reduced_settings())
    assert (
        vectors["left"].features["original_firstorder_Mean"]
        != vectors["right"].features["original_firstorder_Mean"]
    )


def test_it_rejects_a_mask_with_no_voxel_of_the_label():
    image, mask = tiny_hips()
    only_left = sitk.Cast(mask == 1, sitk.sitkUInt8)
    with pytest.raises(ValueError, match="no voxel of label 2"):
        extract_features(image, only_left, label=2, settings=reduced_settings())
    with pytest.raises(ValueError, match="no voxel of label 2"):
        extract_sides(image, only_left, sides=["right"], settings=reduced_settings())


def test_it_rejects_a_mask_of_the_wrong_shape():
    image, mask = tiny_hips()
    with pytest.raises(ValueError, match="size"):
        extract_features(image, mask[:-1, :, :], label=1, settings=reduced_settings())


def test_it_rejects_a_mask_off_the_image_grid():
    image, mask = tiny_hips()
    mask.SetOrigin((0.0, 0.0, 0.0))
    with pytest.raises(ValueError, match="grid"):
        extract_features(image, mask, label=1, settings=reduced_settings())


def test_it_rejects_an_unknown_side():
    image, mask = tiny_hips()
    with pytest.raises(ValueError, match="sides"):
        extract_sides(image, mask, sides=["middle"], settings=reduced_settings())


@pytest.mark.parametrize("pixel_type", [sitk.sitkFloat32, sitk.sitkUInt16])
def test_a_mask_of_another_pixel_type_gives_pyradiomics_numbers(pixel_type):
    image, mask = tiny_hips(seed=2)
    mask = sitk.Cast(mask, pixel_type)
    settings = reduced_settings()
    fast = extract_features(image, mask, label=1, settings=settings)
    plain = extract_features_plain(image, mask, label=1, settings=settings)
    assert max_relative_difference(fast, plain) <= MAX_RELATIVE_DIFFERENCE
