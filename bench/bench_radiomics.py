"""Radiomics speed: the plain pyradiomics call against the fast path, side by side, on a full-field CT.

    .venv/bin/python bench/bench_radiomics.py                 # 512 x 512 x 200 phantom case, left femur
    .venv/bin/python bench/bench_radiomics.py --workers 2 --repeats 3 --label 2

Prints each time, the ratio to the plain call and the maximum relative difference over ALL features
(features missing on either side count as a failure). The CT comes from the synthetic cohort generator
(platform/phantom) when it imports, else from a simple textured femur-like volume built here. The
machine's load average is printed too: on a shared machine, wall times move with other people's work.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

import numpy as np
import SimpleITK as sitk

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "platform")]

from radiomics import featureextractor  # noqa: E402

from inference.ml.radiomics import (  # noqa: E402
    PARAMS_PATH,
    extract_features,
    load_settings,
    shutdown_workers,
)
from inference.ml.radiomics.extractor import worker_pids  # noqa: E402

logging.getLogger("radiomics").setLevel(logging.ERROR)


def phantom_case(*, slices: int, seed: int) -> tuple[sitk.Image, sitk.Image, str]:
    """A 512 x 512 x ``slices`` case from the cohort generator, or a stand-in when it is not there."""
    try:
        from phantom.case import CaseOptions, generate_case
    except ImportError:
        return (*stand_in_case(slices=slices, seed=seed), "stand-in femur volume (bench/bench_radiomics.py)")
    options = CaseOptions(matrix=512, slices=slices, readers=False, exclusion="")
    case = generate_case(seed=seed, index=0, options=options)
    return case.image, case.label, f"platform/phantom case {case.study_id} (seed {seed})"


def stand_in_case(*, slices: int, seed: int, spacing=(0.7, 0.7, 1.25)) -> tuple[sitk.Image, sitk.Image]:
    """Two femur-like bones (head, neck, shaft; cortex and textured medulla) in a body of soft tissue."""
    from scipy import ndimage

    rng = np.random.default_rng(seed)
    shape = (slices, 512, 512)
    z, y, x = (
        np.arange(n, dtype=np.float32)[tuple(slice(None) if a == i else None for a in range(3))] * s
        for i, (n, s) in enumerate(zip(shape, spacing[::-1], strict=True))
    )
    cx, cy, top = 512 * spacing[0] / 2, 512 * spacing[1] / 2, slices * spacing[2] * 0.7
    body = ((x - cx) / (0.45 * 512 * spacing[0])) ** 2 + ((y - cy) / (0.35 * 512 * spacing[1])) ** 2 <= 1
    hu = np.where(body, 40.0, -1000.0).astype(np.float32) * np.ones(shape, np.float32)
    label = np.zeros(shape, np.uint8)
    for value, side in ((1, 1), (2, -1)):
        head_x = cx + side * 90
        head = (x - head_x) ** 2 + (y - cy) ** 2 + (z - top) ** 2 <= 23**2
        axis_x = head_x + side * 35 * np.clip((top - z) / 40, 0, 1)
        shaft = ((x - axis_x) ** 2 + (y - cy) ** 2 <= 15**2) & (z < top)
        bone = head | shaft
        cortex = bone & ~ndimage.binary_erosion(bone, iterations=3)
        hu[bone], hu[cortex] = 200, 1100
        label[bone & (np.broadcast_to(z, shape) > top - 80)] = value
    texture = ndimage.gaussian_filter(rng.normal(0, 1, shape).astype(np.float32), 1.5)
    hu += np.where(label > 0, 400 * texture, 0) + rng.normal(0, 20, shape).astype(np.float32)
    image, mask = (
        sitk.GetImageFromArray(np.clip(hu, -1024, 3071).astype(np.int16)),
        sitk.GetImageFromArray(label),
    )
    for volume in (image, mask):
        volume.SetSpacing(spacing)
    return image, mask


def timed(function):
    start = time.perf_counter()
    result = function()
    return result, time.perf_counter() - start


def cpu_timed(function):
    """Wall and CPU seconds of this process (CPU moves less than wall with other people's load)."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = function()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def plain_call(image, mask, label, *, diagnostics=True):
    """Exactly the issue's reference call: RadiomicsFeatureExtractor(params).execute(image, mask)."""
    extractor = featureextractor.RadiomicsFeatureExtractor(str(PARAMS_PATH))
    if not diagnostics:
        extractor.addProvenance(False)
    result = extractor.execute(image, mask, label=label)
    return {name: float(value) for name, value in result.items() if not name.startswith("diagnostics_")}


def cpu_seconds_of(pid: int) -> float:
    """User + system CPU seconds of a process, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def parallel_cpu(function) -> tuple[float, float, float]:
    """(wall s, this process's CPU s, the busiest worker's CPU s) of one parallel call."""
    before = {pid: cpu_seconds_of(pid) for pid in worker_pids()}
    _, wall, cpu = cpu_timed(function)
    busiest = max((cpu_seconds_of(pid) - before.get(pid, 0.0) for pid in worker_pids()), default=0.0)
    return wall, cpu, busiest


def max_relative_difference(fast: dict, plain: dict) -> float:
    if list(fast) != list(plain):
        raise SystemExit(f"feature names differ: {len(fast)} fast vs {len(plain)} plain")
    a, b = np.array(list(fast.values())), np.array(list(plain.values()))
    same = (a == b) | (np.isnan(a) & np.isnan(b))
    return float(np.max(np.where(same, 0.0, np.abs(a - b) / np.maximum(np.abs(b), 1e-300))))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--slices", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--label", type=int, default=1, help="1 = left femur, 2 = right")
    parser.add_argument("--workers", type=int, default=2, help="processes for the parallel fast path")
    parser.add_argument("--repeats", type=int, default=1, help="timed runs of each path (best is kept)")
    args = parser.parse_args()

    (image, mask, source), build_s = timed(lambda: phantom_case(slices=args.slices, seed=args.seed))
    voxels = int(np.count_nonzero(sitk.GetArrayViewFromImage(mask) == args.label))
    print(
        f"CT: {source}; size {image.GetSize()}, spacing {tuple(round(s, 3) for s in image.GetSpacing())} mm, "
        f"label {args.label}: {voxels} voxels; built in {build_s:.1f} s"
    )
    print(f"CPUs {len(os.sched_getaffinity(0))}, load average before {os.getloadavg()[0]:.2f}")
    settings = load_settings()

    def best(function):
        runs = [cpu_timed(function) for _ in range(args.repeats)]
        return runs[0][0], min(run[1] for run in runs), min(run[2] for run in runs)

    plain, plain_s, plain_cpu = best(lambda: plain_call(image, mask, args.label))
    quiet, quiet_s, quiet_cpu = best(lambda: plain_call(image, mask, args.label, diagnostics=False))
    serial, serial_s, serial_cpu = best(
        lambda: extract_features(image, mask, label=args.label, settings=settings).features
    )
    _, cold_s = timed(
        lambda: extract_features(image, mask, label=args.label, settings=settings, workers=args.workers)
    )
    parallel, parallel_s, _ = best(
        lambda: (
            extract_features(image, mask, label=args.label, settings=settings, workers=args.workers).features
        )
    )
    # What the parallel call would take with a core per process: this process's CPU plus the busiest
    # worker's (an upper bound: it ignores that shape runs here while the workers run).
    estimate = min(
        sum(
            parallel_cpu(
                lambda: extract_features(
                    image, mask, label=args.label, settings=settings, workers=args.workers
                )
            )[1:]
        )
        for _ in range(args.repeats)
    )
    shutdown_workers()

    print(f"features: {len(plain)}; best of {args.repeats} run(s)")
    print(f"{'path':52s} {'wall s':>7s} {'vs plain':>9s} {'cpu s':>6s} {'max rel diff':>13s}")
    print(
        f"{'pyradiomics execute(image, mask) (params.yaml as is)':52s} {plain_s:7.2f} {1:8.2f}x "
        f"{plain_cpu:6.2f} {0:13.1e}"
    )
    for name, features, seconds, cpu in (
        ("pyradiomics execute, diagnostics off", quiet, quiet_s, f"{quiet_cpu:6.2f}"),
        ("fast path, 1 process", serial, serial_s, f"{serial_cpu:6.2f}"),
        (f"fast path, {args.workers} processes (pool already up)", parallel, parallel_s, f"{'-':>6s}"),
    ):
        difference = max_relative_difference(dict(features), plain)
        print(f"{name:52s} {seconds:7.2f} {plain_s / seconds:8.2f}x {cpu} {difference:13.1e}")
    print(
        f"{f'fast path, {args.workers} processes, first call (pool start)':52s} {cold_s:7.2f} "
        f"{plain_s / cold_s:8.2f}x"
    )
    print(
        f"{f'fast path, {args.workers} processes, CPU critical path':52s} {estimate:7.2f} "
        f"{plain_cpu / estimate:8.2f}x  (vs plain CPU s: the ratio on idle cores)"
    )
    print(f"load average after {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
