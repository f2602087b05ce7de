"""The VB-Net cascade for proximal femur segmentation: configuration, training, checkpoints, inference.

Plain Python (torch, MONAI, SimpleITK); no Django. Labels: 0 background, 1 left, 2 right proximal femur.
"""

from inference.ml.segmentation.cascade import segment_image
from inference.ml.segmentation.checkpoint import Checkpoint, CheckpointError, code_version, load_checkpoint
from inference.ml.segmentation.config import DEMO, PAPER, SegmentationConfig, StageConfig, configuration
from inference.ml.segmentation.metrics import label_agreement, summarise
from inference.ml.segmentation.training import TrainingResult, checkpoint_path, train_segmentation

__all__ = [
    "DEMO", "PAPER", "Checkpoint", "CheckpointError", "SegmentationConfig", "StageConfig", "TrainingResult",
    "checkpoint_path", "code_version", "configuration", "label_agreement", "load_checkpoint", "segment_image",
    "summarise", "train_segmentation",
]
