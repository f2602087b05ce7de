"""Radiomics of the proximal-femur VOI: the paper's pyradiomics settings and an exact fast extractor.

Plain Python (SimpleITK images in, ordered feature dicts out); imports no Django.
"""

from inference.ml.radiomics.extractor import (
    SIDE_LABELS,
    FeatureProvenance,
    FeatureVector,
    default_workers,
    extract_features,
    extract_features_plain,
    extract_sides,
    provenance,
    shutdown_workers,
)
from inference.ml.radiomics.params import (
    PARAMS_PATH,
    RadiomicsSettings,
    load_settings,
    params_hash,
    settings_from_dict,
)

__all__ = [
    "PARAMS_PATH",
    "SIDE_LABELS",
    "FeatureProvenance",
    "FeatureVector",
    "RadiomicsSettings",
    "default_workers",
    "extract_features",
    "extract_features_plain",
    "extract_sides",
    "load_settings",
    "params_hash",
    "provenance",
    "settings_from_dict",
    "shutdown_workers",
]
