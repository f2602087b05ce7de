"""Checkpoints that carry everything inference needs to rebuild exactly what was trained.

A checkpoint is a plain dict saved with torch.save and read back with weights_only=True (no pickled code
runs when a file is loaded). The architecture is named, not pickled: ARCHITECTURES maps the name to a class.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import torch

from inference.ml.vbnet import VBNet
from voi.labels import LABEL_NAMES

ARCHITECTURES = {"VBNet": VBNet}
STAGES = ("coarse", "fine")
FORMAT_VERSION = 1
# Stored with every checkpoint, so a checkpoint says which label is which side (voi.labels).
LABELS = dict(LABEL_NAMES)
_SOURCE_FILES = ("../vbnet.py", "cascade.py", "grids.py", "data.py", "training.py", "checkpoint.py")


class CheckpointError(ValueError):
    """A checkpoint file is missing, unreadable, or not one of ours."""


def code_version() -> str:
    """A fingerprint of the segmentation source code (SHA-256 of the files that define the model)."""
    digest = hashlib.sha256()
    here = Path(__file__).parent
    for name in _SOURCE_FILES:
        path = here / name
        if path.exists():
            digest.update(path.read_bytes())
    return "vbnet-cascade-" + digest.hexdigest()[:12]


@dataclass
class Checkpoint:
    """One trained stage of the cascade.

    stage: "coarse" (femur or not on the whole CT; older checkpoints have 3 classes, background, left and
    right, whose femur classes inference sums) or "fine" (femur or not on a crop around one femur). The side
    comes from where a femur lies (cascade.assign_sides).
    """

    stage: str
    architecture: str
    architecture_args: dict
    spacing_mm: float
    patch_size: tuple[int, int, int]  # the sliding-window size inference uses
    hu_window: tuple[float, float]
    margin_mm: float
    sliding_overlap: float
    state_dict: dict
    epoch: int = 0
    epochs_total: int = 0
    seed: int = 0
    split_id: int | None = None
    config: dict = field(default_factory=dict)
    optimizer_state: dict | None = None
    history: list = field(default_factory=list)
    # The weights of the best validated epoch so far (training.py rolls back to them when the last
    # validation is clearly worse); None once the stage is complete or when nothing was validated.
    best_state_dict: dict | None = None
    best_val_dice: float | None = None
    best_epoch: int = 0
    code_version: str = field(default_factory=code_version)
    labels: dict = field(default_factory=lambda: dict(LABELS))
    # The built network, kept by cascade.predict so repeated calls skip rebuilding it. Not a constructor
    # argument, not compared, never saved: the state dict above is what a file holds.
    _network: torch.nn.Module | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def complete(self) -> bool:
        return self.epoch >= self.epochs_total > 0

    def build_network(self) -> torch.nn.Module:
        """The trained network, in eval mode, on the CPU."""
        network = ARCHITECTURES[self.architecture](**self.architecture_args)
        network.load_state_dict(self.state_dict)
        return network.eval()


def save_checkpoint(checkpoint: Checkpoint, path: str | os.PathLike) -> Path:
    """Write atomically: a crash mid-write leaves the previous file intact, never half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = _payload(checkpoint)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    os.close(handle)
    try:
        torch.save(payload, temporary)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return path


def _payload(checkpoint: Checkpoint) -> dict:
    """The saved dict: every constructor field, copied by asdict, and the format version."""
    # replace() rebuilds through __init__, which leaves the init=False network cache at None, so asdict
    # never deep-copies a network; the None is then dropped, as load_checkpoint could not pass it back.
    payload = asdict(replace(checkpoint))
    del payload["_network"]
    return payload | {"format_version": FORMAT_VERSION}


def load_checkpoint(path: str | os.PathLike) -> Checkpoint:
    """Read a checkpoint; CheckpointError with the reason when it cannot be used."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"segmentation checkpoint not found: {path}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for a damaged file; all mean the same here.
        raise CheckpointError(f"segmentation checkpoint {path} is unreadable or damaged: {error}") from error
    return _checkpoint_from_payload(payload, path)


def _checkpoint_from_payload(payload, path: Path) -> Checkpoint:
    if not isinstance(payload, dict) or payload.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(f"{path} is not a segmentation checkpoint of format {FORMAT_VERSION}")
    payload = {k: v for k, v in payload.items() if k != "format_version"}
    if payload.get("architecture") not in ARCHITECTURES or payload.get("stage") not in STAGES:
        raise CheckpointError(f"{path} names an unknown architecture or stage")
    try:
        return Checkpoint(**_with_saved_types(payload))
    except TypeError as error:
        raise CheckpointError(f"{path} lacks fields of a segmentation checkpoint: {error}") from error


def _with_saved_types(payload: dict) -> dict:
    """The payload with the tuples and integer label keys that saving may have turned into lists and strings."""
    restored = dict(payload)
    for name in ("patch_size", "hu_window"):
        if name in restored:
            restored[name] = tuple(restored[name])
    if "labels" in restored:
        restored["labels"] = {int(k): v for k, v in restored["labels"].items()}
    return restored
