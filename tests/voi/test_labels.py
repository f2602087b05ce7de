"""The label contract and the grid are declared once, in voi, and every module takes them from there."""

import re
from pathlib import Path

import pytest

from voi import labels
from voi.grid import Grid, spacing_zyx

ROOT = Path(__file__).resolve().parents[2]
SOURCE_FOLDERS = ("annotations", "inference", "platform")
# Ways the contract used to be written out by hand, in five places (issue 12): label tuples, label names,
# side-to-label maps and "1 if left else 2".
HAND_WRITTEN_CONTRACT = re.compile(
    r"""(=\s*\(1,\s*2\)\s*$)|(\{0:\s*"background")|("left":\s*1\b)|(\b1 if side == LEFT else 2\b)"""
)


def test_the_values_are_the_shared_contract():
    assert (labels.BACKGROUND, labels.LEFT, labels.RIGHT) == (0, 1, 2)
    assert labels.SIDES == {"left": 1, "right": 2} and labels.FEMUR_LABELS == (1, 2)
    assert labels.SIDE_OF_LABEL[labels.LEFT] == "left" and labels.MAX_LABEL == 2


def _sources():
    for folder in SOURCE_FOLDERS:
        for path in (ROOT / folder).rglob("*.py"):
            if "migrations" not in path.parts and path.parent.name != "voi":
                yield path


def test_no_module_writes_the_label_contract_out_by_hand():
    """Before, annotations/agreement.py, annotations/labelmaps.py, ml/segmentation (cascade, checkpoint,
    metrics), ml/radiomics/extractor.py and services/segmentation.py each declared it."""
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in _sources()
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if HAND_WRITTEN_CONTRACT.search(line)
    ]
    assert found == []


def test_the_modules_that_need_the_contract_use_the_shared_one():
    from annotations import labelmaps
    from inference.ml.radiomics import SIDE_LABELS
    from inference.ml.segmentation import cascade, checkpoint

    assert labelmaps.FEMUR_LABELS is labels.FEMUR_LABELS and labelmaps.Grid is Grid
    assert cascade.SIDES is labels.FEMUR_LABELS and SIDE_LABELS is labels.SIDES
    assert checkpoint.LABELS == labels.LABEL_NAMES


def test_array_spacing_is_the_grid_spacing_reversed():
    grid = Grid.of(
        size=(512, 400, 90), spacing=(0.7, 0.8, 1.25), origin=(0, 0, 0), direction=(1, 0, 0, 0, 1, 0, 0, 0, 1)
    )
    assert grid.shape_zyx == (90, 400, 512) and grid.spacing_zyx == (1.25, 0.8, 0.7)
    with pytest.raises(ValueError, match="three positive"):
        spacing_zyx((1.0, 0.0, 1.0))
