"""The VB-Net cascade for proximal femur segmentation: configuration, training, checkpoints, inference.

Plain Python (torch, MONAI, SimpleITK); no Django. Labels as in voi.labels (0 background, 1 left, 2 right).
"""

from inference.ml.segmentation.cascade import segment_image
from inference.ml.segmentation.checkpoint import Checkpoint, CheckpointError, code_version, load_checkpoint
from inference.ml.segmentation.config import DEMO, PAPER, SegmentationConfig, StageConfig, configuration
from inference.ml.segmentation.heldout import HELDOUT, OOD_DICE_GAP_LIMIT, HeldoutProfile
from inference.ml.segmentation.training import (
    TrainingResult,
    checkpoint_path,
    reference_agreement,
    train_segmentation,
)

__all__ = [
    "DEMO",
    "HELDOUT",
    "OOD_DICE_GAP_LIMIT",
    "PAPER",
    "HeldoutProfile",
    "Checkpoint",
    "CheckpointError",
    "SegmentationConfig",
    "StageConfig",
    "TrainingResult",
    "checkpoint_path",
    "code_version",
    "configuration",
    "load_checkpoint",
    "reference_agreement",
    "segment_image",
    "train_segmentation",
]
