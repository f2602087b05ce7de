"""The one Table 2 summary: Dice mean +/- SD and VD median (IQR), undefined values left out."""

import numpy as np
import pytest

from voi.metrics import table2_summary


def test_it_gives_dice_mean_sd_and_vd_median_iqr():
    dice = np.array([0.97, 0.98, 0.96, 0.99])
    vd = np.array([0.05, 0.02, 0.13, 0.06, np.nan])
    summary = table2_summary(dice=dice, volume_difference_cm3=vd)
    assert summary.dice_mean == pytest.approx(dice.mean()) and summary.dice_sd == pytest.approx(
        dice.std(ddof=1)
    )
    expected = np.percentile(vd[:4], [25, 50, 75])
    assert (
        summary.volume_difference_q1,
        summary.volume_difference_median,
        summary.volume_difference_q3,
    ) == pytest.approx(tuple(expected))
    assert summary.n == 4


def test_an_empty_group_summarises_to_nothing():
    summary = table2_summary(dice=np.array([]), volume_difference_cm3=np.array([]))
    assert summary.n == 0 and summary.dice_mean is None and summary.volume_difference_median is None


def test_a_side_neither_mask_has_is_left_out_not_counted_as_perfect():
    """Dice None (both empty) is no value: the old training summary counted it as 1.0."""
    summary = table2_summary(dice=[0.9, None, 0.7], volume_difference_cm3=[0.1, 0.0, 0.3])
    assert summary.dice_mean == pytest.approx(0.8) and summary.dice_sd == pytest.approx(
        np.std([0.9, 0.7], ddof=1)
    )


def test_one_value_has_a_mean_but_no_sd():
    summary = table2_summary(dice=[0.95], volume_difference_cm3=[0.04])
    assert (summary.dice_mean, summary.dice_sd, summary.volume_difference_median) == (0.95, None, 0.04)
