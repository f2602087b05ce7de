"""Agreement between a reference VOI and a predicted mask: Dice and volume difference (Table 2)."""

from __future__ import annotations

import numpy as np
import SimpleITK as sitk

MM3_PER_CM3 = 1000.0


def dice(reference: np.ndarray, predicted: np.ndarray) -> float:
    """Dice of two boolean masks; 1.0 when both are empty (nothing to find, nothing found)."""
    reference, predicted = reference.astype(bool), predicted.astype(bool)
    total = reference.sum() + predicted.sum()
    return 1.0 if total == 0 else float(2.0 * np.logical_and(reference, predicted).sum() / total)


def label_agreement(reference: sitk.Image, predicted: sitk.Image, labels=(1, 2)) -> dict[int, dict]:
    """Per label: Dice and VD = manual (reference) volume - automatic (predicted) volume, in cm3."""
    if reference.GetSize() != predicted.GetSize():
        raise ValueError(f"masks differ in size: {reference.GetSize()} vs {predicted.GetSize()}")
    voxel_cm3 = float(np.prod(reference.GetSpacing())) / MM3_PER_CM3
    ref, pred = sitk.GetArrayViewFromImage(reference), sitk.GetArrayViewFromImage(predicted)
    return {label: {"dice": dice(ref == label, pred == label),
                    "volume_difference_cm3": float(((ref == label).sum() - (pred == label).sum()) * voxel_cm3)}
            for label in labels}


def summarise(per_case: list[dict[int, dict]]) -> dict:
    """Dice mean +/- SD and VD median (IQR) over every case and label, as Table 2 reports them."""
    dices = np.array([m["dice"] for case in per_case for m in case.values()])
    vds = np.array([m["volume_difference_cm3"] for case in per_case for m in case.values()])
    if dices.size == 0:
        return {}
    q1, median, q3 = np.percentile(vds, [25, 50, 75])
    return {"dice_mean": float(dices.mean()), "dice_sd": float(dices.std(ddof=1)) if dices.size > 1 else 0.0,
            "vd_median_cm3": float(median), "vd_q1_cm3": float(q1), "vd_q3_cm3": float(q3), "n": int(dices.size)}
