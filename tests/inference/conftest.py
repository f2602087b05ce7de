"""Fixtures shared by the inference tests. The helpers that build synthetic cohorts and tiny models are
in tests/model_helpers.py (tests/ is on pytest's pythonpath)."""

import pytest
import torch

from model_helpers import TINY_CLASSIFIER_CONFIG, TINY_RADIOMICS_PARAMS


@pytest.fixture
def one_torch_thread():
    # The machine's few cores are shared by parallel runs; one thread keeps timings steady.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def tiny_classifier_settings(settings, tmp_path):
    """Radiomics and classifier settings small enough for a test: a few features, a few trees."""
    params, config = tmp_path / "params.yaml", tmp_path / "classifier.yaml"
    params.write_text(TINY_RADIOMICS_PARAMS)
    config.write_text(TINY_CLASSIFIER_CONFIG)
    settings.RADIOMICS_PARAMS_PATH, settings.CLASSIFIER_CONFIG_PATH = str(params), str(config)
