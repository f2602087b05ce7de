import pytest
import torch
from torch import nn

from inference.ml.losses import segmentation_loss
from inference.ml.vbnet import DownBlock, UpBlock, VBNet

torch.set_num_threads(1)


@pytest.mark.parametrize(
    ("depth", "shape", "classes"),
    [(1, (8, 6, 4), 2), (2, (8, 12, 16), 3), (3, (16, 24, 8), 3), (4, (16, 16, 32), 2)],
)
def test_it_returns_one_logit_per_class_and_voxel(depth, shape, classes):
    network = VBNet(in_channels=1, out_channels=classes, base_width=4, depth=depth).eval()
    with torch.inference_mode():
        logits = network(torch.randn(2, 1, *shape))
    assert logits.shape == (2, classes, *shape)


def test_the_default_network_is_the_published_design_with_width_16_and_depth_4():
    network = VBNet()
    # ModuleList and Sequential hand out plain Modules; checking each block's class lets the test read them.
    first_down, last_down, deepest_up = network.down_blocks[0], network.down_blocks[-1], network.up_blocks[0]
    assert (
        isinstance(first_down, DownBlock)
        and isinstance(last_down, DownBlock)
        and isinstance(deepest_up, UpBlock)
    )
    input_conv, last_down_conv = network.input_unit[0], last_down.down[0]
    assert isinstance(input_conv, nn.Conv3d) and isinstance(last_down_conv, nn.Conv3d)
    assert input_conv.out_channels == 16 and last_down_conv.out_channels == 256
    assert len(first_down.stage.body) == 1 and len(deepest_up.stage.body) == 3


@pytest.mark.parametrize(
    "arguments",
    [
        {"base_width": 6},
        {"base_width": 0},
        {"depth": 0},
        {"depth": 6},
        {"out_channels": 1},
        {"in_channels": 0},
        {"norm": "layer"},
        {"depth": 2.5},
    ],
)
def test_it_rejects_bad_arguments_before_building(arguments):
    with pytest.raises(ValueError):
        VBNet(**arguments)


def test_it_rejects_an_input_whose_size_is_not_a_multiple_of_the_depth():
    network = VBNet(base_width=4, depth=2)
    with pytest.raises(ValueError, match="multiples of 4"):
        network(torch.zeros(1, 1, 8, 8, 6))


@pytest.mark.parametrize("norm", ["batch", "instance", "group"])
def test_a_few_training_steps_lower_the_loss_on_a_tiny_phantom(norm):
    torch.manual_seed(0)
    image = torch.zeros(4, 1, 16, 16, 16)
    labels = torch.zeros(4, 1, 16, 16, 16, dtype=torch.long)
    image[:, :, 4:10, 5:12, 3:9] = 1.0  # a bright "bone" block labelled 1
    labels[:, :, 4:10, 5:12, 3:9] = 1
    image += 0.1 * torch.randn_like(image)
    network = VBNet(out_channels=2, base_width=4, depth=2, norm=norm)
    optimiser = torch.optim.Adam(network.parameters(), lr=1e-2)
    loss_function = segmentation_loss("dice_focal")
    losses = []
    for _ in range(5):
        optimiser.zero_grad()
        loss = loss_function(network(image), labels)
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]


def test_the_loss_rejects_an_unknown_kind():
    with pytest.raises(ValueError, match="kind"):
        segmentation_loss("cross_entropy")
