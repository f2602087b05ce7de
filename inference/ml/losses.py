"""Losses for the segmentation networks: focal loss, optionally with a Dice term (MONAI implementations).

The paper trains with focal loss (method.md); a soft Dice term helps small training sets by weighting the
femur's overlap directly rather than per voxel (vbnet.md, "Training").
"""

from __future__ import annotations

from monai.losses import DiceFocalLoss, FocalLoss
from torch import nn

# Lin et al. (2017), "Focal loss for dense object detection": gamma = 2 worked best.
FOCAL_GAMMA = 2.0


def segmentation_loss(kind: str = "dice_focal", *, gamma: float = FOCAL_GAMMA) -> nn.Module:
    """A loss taking logits (N, C, ...) and integer labels (N, 1, ...).

    Args:
        kind: "focal" (the paper's) or "dice_focal" (focal plus soft Dice over the foreground classes).
        gamma: focusing parameter of the focal term.

    Example:
        >>> import torch
        >>> loss = segmentation_loss("focal")
        >>> float(loss(torch.zeros(1, 3, 4, 4, 4), torch.zeros(1, 1, 4, 4, 4, dtype=torch.long))) > 0
        True
    """
    if gamma < 0:
        raise ValueError(f"gamma must be >= 0, got {gamma}")
    if kind == "focal":
        return FocalLoss(to_onehot_y=True, use_softmax=True, gamma=gamma)
    if kind == "dice_focal":
        # batch=True pools the Dice over the batch: a patch without one of the femurs then does not add a
        # near-constant loss of 1 for that class.
        return DiceFocalLoss(
            to_onehot_y=True, softmax=True, include_background=False, batch=True, gamma=gamma
        )
    raise ValueError(f"kind must be 'focal' or 'dice_focal', got {kind!r}")
