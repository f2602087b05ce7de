"""The radiomics parameter file: the paper's settings, validated, with a stable hash."""

import hashlib
import json

import pytest

from inference.ml.radiomics import PARAMS_PATH, load_settings, params_hash, settings_from_dict


def test_the_repository_params_hold_the_paper_settings():
    settings = load_settings(PARAMS_PATH)
    assert settings.setting["binWidth"] == 25
    assert settings.setting["resampledPixelSpacing"] == [1.0, 1.0, 1.0]
    assert settings.setting["interpolator"] == "sitkBSpline"
    assert {"Original", "Wavelet", "LoG"} <= set(settings.params["imageType"])
    assert {"shape", "firstorder", "glcm", "glrlm", "glszm", "gldm", "ngtdm"} <= set(
        settings.params["featureClass"]
    )


def test_the_settings_hash_is_the_sha256_of_the_canonical_json():
    settings = load_settings()
    canonical = json.dumps(settings.params, sort_keys=True, separators=(",", ":"))
    assert settings.settings_hash == hashlib.sha256(canonical.encode()).hexdigest()


def test_the_hash_ignores_key_order_but_not_values():
    params = load_settings().as_dict()
    reordered = dict(reversed(list(params.items())))
    assert params_hash(reordered) == params_hash(params)
    params["setting"]["binWidth"] = 10
    assert params_hash(params) != load_settings().settings_hash


@pytest.mark.parametrize(
    "text",
    [
        "setting:\n  binWidth: -3\n",
        "setting:\n  binWidthh: 25\n",
        "imageType:\n  Sobel: {}\n",
        "setting: [1, 2\n",
        "just a string\n",
    ],
    ids=["negative-bin-width", "unknown-setting", "unknown-image-type", "broken-yaml", "not-a-mapping"],
)
def test_it_rejects_a_bad_params_file_with_a_clear_message(tmp_path, text):
    path = tmp_path / "params.yaml"
    path.write_text(text)
    with pytest.raises(ValueError, match="radiomics parameter"):
        load_settings(path)


def test_it_rejects_a_missing_params_file(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        load_settings(tmp_path / "nowhere.yaml")


def test_it_rejects_an_unknown_section():
    with pytest.raises(ValueError, match="unknown sections"):
        settings_from_dict({"settings": {"binWidth": 25}})
