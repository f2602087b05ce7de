"""VB-Net: a V-Net whose convolution stages are residual bottleneck stages.

Written from the design in shared/vbnet.md (our own words; no code was copied from the GPL implementation).
The network maps a CT patch to per-class logits; the caller applies softmax (the losses do it themselves).
"""

from __future__ import annotations

import torch
from torch import nn

NORMS = ("batch", "instance", "group")
# GroupNorm needs a group count that divides every width; 4 divides every width of 4 and up.
GROUP_NORM_GROUPS = 4
# The public design uses at most three units per stage (vbnet.md, table "Network").
MAX_UNITS_PER_STAGE = 3
# Levels at and below this one use plain 3x3x3 conv units; deeper levels use bottleneck units (vbnet.md).
LAST_PLAIN_LEVEL = 1
# A bottleneck unit works at a quarter of the stage's width (vbnet.md, "bottleneck unit").
BOTTLENECK_REDUCTION = 4


def _norm(kind: str, channels: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm3d(channels)
    if kind == "instance":
        return nn.InstanceNorm3d(channels, affine=True)
    return nn.GroupNorm(min(GROUP_NORM_GROUPS, channels), channels)


def _conv_unit(
    c_in: int, c_out: int, norm: str, *, kernel: int = 3, stride: int = 1, relu: bool = True
) -> nn.Sequential:
    """Conv3d -> normalisation -> ReLU (the last unit of a residual stage leaves the ReLU out)."""
    padding = kernel // 2 if stride == 1 else 0
    layers: list[nn.Module] = [
        nn.Conv3d(c_in, c_out, kernel, stride=stride, padding=padding, bias=False),
        _norm(norm, c_out),
    ]
    if relu:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


def _bottleneck_unit(channels: int, norm: str, *, relu: bool) -> nn.Module:
    """1x1x1 reduce -> 3x3x3 -> 1x1x1 expand: a quarter of the multiply-adds of a 3x3x3 unit."""
    inner = max(1, channels // BOTTLENECK_REDUCTION)
    return nn.Sequential(
        _conv_unit(channels, inner, norm, kernel=1),
        _conv_unit(inner, inner, norm, kernel=3),
        _conv_unit(inner, channels, norm, kernel=1, relu=relu),
    )


class ResidualStage(nn.Module):
    """y = ReLU(x + F(x)), where F is `units` conv or bottleneck units in a row."""

    def __init__(self, *, channels: int, units: int, bottleneck: bool, norm: str):
        super().__init__()
        blocks = []
        for index in range(units):
            last = index == units - 1
            if bottleneck:
                blocks.append(_bottleneck_unit(channels, norm, relu=not last))
            else:
                blocks.append(_conv_unit(channels, channels, norm, relu=not last))
        self.body = nn.Sequential(*blocks)
        self.activation = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.activation(x + self.body(x))


class DownBlock(nn.Module):
    """Halve the resolution with a strided 2x2x2 conv unit, double the width, then a residual stage."""

    def __init__(self, *, c_in: int, units: int, bottleneck: bool, norm: str):
        super().__init__()
        self.down = _conv_unit(c_in, 2 * c_in, norm, kernel=2, stride=2)
        self.stage = ResidualStage(channels=2 * c_in, units=units, bottleneck=bottleneck, norm=norm)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.stage(self.down(x))


class UpBlock(nn.Module):
    """Double the resolution with a transposed conv, concatenate the skip, then a residual stage."""

    def __init__(self, *, c_in: int, c_skip: int, units: int, bottleneck: bool, norm: str):
        super().__init__()
        self.up = nn.Sequential(
            nn.ConvTranspose3d(c_in, c_skip, 2, stride=2, bias=False),
            _norm(norm, c_skip),
            nn.ReLU(inplace=True),
        )
        self.stage = ResidualStage(channels=2 * c_skip, units=units, bottleneck=bottleneck, norm=norm)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        return self.stage(torch.cat([self.up(x), skip], dim=1))


class VBNet(nn.Module):
    """A 3-D VB-Net for semantic segmentation; returns logits of shape (N, out_channels, D, H, W).

    Level l (0 = input resolution) has width base_width * 2**l. Down level l holds min(l, 3) units and up
    level l holds min(l + 1, 3) units; levels 0-1 use plain 3x3x3 units, deeper levels bottleneck units.
    With base_width=16 and depth=4 this is the network of vbnet.md.

    Args:
        in_channels: image channels (1 for CT).
        out_channels: classes, background included.
        base_width: channels at full resolution; must be a multiple of 4 (the bottleneck reduction).
        depth: number of down-sampling levels (1-5); every spatial size must be a multiple of 2**depth.
        norm: "batch", "instance" or "group".

    Example:
        >>> net = VBNet(in_channels=1, out_channels=3, base_width=8, depth=3)
        >>> net(torch.zeros(1, 1, 16, 32, 24)).shape
        torch.Size([1, 3, 16, 32, 24])
    """

    def __init__(
        self,
        *,
        in_channels: int = 1,
        out_channels: int = 3,
        base_width: int = 16,
        depth: int = 4,
        norm: str = "batch",
    ):
        _check_arguments(in_channels, out_channels, base_width, depth, norm)
        super().__init__()
        self.depth = depth
        self.input_unit = _conv_unit(in_channels, base_width, norm)
        self.down_blocks = nn.ModuleList(
            DownBlock(
                c_in=base_width * 2 ** (level - 1),
                units=min(level, MAX_UNITS_PER_STAGE),
                bottleneck=level > LAST_PLAIN_LEVEL,
                norm=norm,
            )
            for level in range(1, depth + 1)
        )
        self.up_blocks = nn.ModuleList(
            UpBlock(
                c_in=base_width * 2 ** (level + 1) * (1 if level == depth - 1 else 2),
                c_skip=base_width * 2**level,
                units=min(level + 1, MAX_UNITS_PER_STAGE),
                bottleneck=level > LAST_PLAIN_LEVEL,
                norm=norm,
            )
            for level in reversed(range(depth))
        )
        # vbnet.md narrows straight to the class count before the 1x1x1 conv; keeping base_width channels
        # there avoids a ReLU on two or three channels, which can switch a class off early in training.
        self.output_unit = _conv_unit(2 * base_width, base_width, norm)
        self.classifier = nn.Conv3d(base_width, out_channels, 1)
        self.apply(_kaiming_init)

    @property
    def size_multiple(self) -> int:
        """Every spatial input size must be a multiple of this."""
        return 2**self.depth

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        bad = [s for s in x.shape[2:] if s % self.size_multiple]
        if x.dim() != 5 or bad:
            raise ValueError(
                f"VBNet needs (N, C, D, H, W) input with sizes that are multiples of {self.size_multiple}; "
                f"got {tuple(x.shape)}"
            )
        skips = [self.input_unit(x)]
        for block in self.down_blocks:
            skips.append(block(skips[-1]))
        y = skips.pop()
        for block in self.up_blocks:
            y = block(y, skips.pop())
        return self.classifier(self.output_unit(y))


def _check_arguments(in_channels: int, out_channels: int, base_width: int, depth: int, norm: str) -> None:
    for name, value in (("in_channels", in_channels), ("out_channels", out_channels)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if out_channels < 2:
        raise ValueError(f"out_channels counts the background too and must be at least 2, got {out_channels}")
    if (
        not isinstance(base_width, int)
        or base_width < BOTTLENECK_REDUCTION
        or base_width % BOTTLENECK_REDUCTION
    ):
        raise ValueError(
            f"base_width must be a positive multiple of {BOTTLENECK_REDUCTION}, got {base_width!r}"
        )
    if not isinstance(depth, int) or not 1 <= depth <= 5:
        raise ValueError(f"depth must be an integer from 1 to 5, got {depth!r}")
    if norm not in NORMS:
        raise ValueError(f"norm must be one of {NORMS}, got {norm!r}")


def _kaiming_init(module: nn.Module) -> None:
    if isinstance(module, (nn.Conv3d, nn.ConvTranspose3d)):
        nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
        if module.bias is not None:
            nn.init.zeros_(module.bias)
