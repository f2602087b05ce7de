"""The radiomics settings: a pyradiomics parameter file, validated, with a stable hash.

A feature vector is only comparable with another made under the same settings, so every vector carries
``settings_hash``: the SHA-256 of the canonical JSON form of the validated parameters. Two files that
differ only in comments, key order or YAML spelling therefore share a hash.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pykwalify.core
import yaml
from radiomics import getParameterValidationFiles

# The parameter file in the repository with the paper's settings (bin width 25, 1 mm B-spline
# resampling, Original + Wavelet + LoG, all feature classes).
PARAMS_PATH = Path(__file__).with_name("params.yaml")

# pykwalify logs every schema violation at ERROR level before raising; the ValueError we raise carries
# the same text, so its own log lines would only repeat it.
logging.getLogger("pykwalify").setLevel(logging.CRITICAL)


@dataclass(frozen=True)
class RadiomicsSettings:
    """Validated pyradiomics parameters.

    Args:
        params: the parameter mapping with the keys pyradiomics reads (``imageType``, ``featureClass``,
            ``setting``), as validated by pyradiomics' own schema.
        source: where the parameters came from (a file path or "<dict>"), for messages only.

    Example:
        >>> settings = load_settings()
        >>> len(settings.settings_hash)
        64
    """

    params: dict[str, Any]
    source: str = "<dict>"
    settings_hash: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "settings_hash", params_hash(self.params))

    @property
    def setting(self) -> dict[str, Any]:
        """The ``setting`` section (bin width, resampling, padding...)."""
        return dict(self.params.get("setting") or {})

    def as_dict(self) -> dict[str, Any]:
        """A deep copy of the parameters, safe to hand to pyradiomics (which may mutate what it gets)."""
        return copy.deepcopy(self.params)


def canonical_params_json(params: dict[str, Any]) -> str:
    """The canonical JSON form of parameters: sorted keys, no whitespace, floats as JSON writes them."""
    return json.dumps(params, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def params_hash(params: dict[str, Any]) -> str:
    """SHA-256 (hex) of the canonical JSON form of the parameters."""
    return hashlib.sha256(canonical_params_json(params).encode("ascii")).hexdigest()


def settings_from_dict(params: dict[str, Any], *, source: str = "<dict>") -> RadiomicsSettings:
    """Validates a parameter mapping with pyradiomics' schema; raises ValueError naming what is wrong."""
    if not isinstance(params, dict):
        raise ValueError(f"radiomics parameters from {source} must be a mapping, got {type(params).__name__}")
    unknown = set(params) - {"imageType", "featureClass", "setting", "voxelSetting"}
    if unknown:
        raise ValueError(f"radiomics parameters from {source} have unknown sections: {sorted(unknown)}")
    _validate_with_schema(params, source=source)
    return RadiomicsSettings(params=copy.deepcopy(params), source=source)


def load_settings(path: str | Path = PARAMS_PATH) -> RadiomicsSettings:
    """Reads and validates a pyradiomics parameter file (YAML or JSON).

    Raises:
        ValueError: the file is missing, is not YAML/JSON, or breaks pyradiomics' parameter schema.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"radiomics parameter file {path} does not exist")
    try:
        params = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise ValueError(f"radiomics parameter file {path} is not valid YAML/JSON: {error}") from error
    return settings_from_dict(params, source=str(path))


def _validate_with_schema(params: dict[str, Any], *, source: str) -> None:
    schema_file, schema_functions = getParameterValidationFiles()
    core = pykwalify.core.Core(
        source_data=copy.deepcopy(params), schema_files=[schema_file], extensions=[schema_functions]
    )
    try:
        core.validate(raise_exception=True)
    except Exception as error:  # pykwalify raises SchemaError, and plain exceptions from custom checks
        raise ValueError(f"radiomics parameters from {source} are invalid: {error}") from error
