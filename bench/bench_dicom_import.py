"""Time to read a realistic DICOM study export: a 512 x 512 x N axial series (extension-less names) beside a
localizer, a thick series and a dose report, through discovery by content, series choice, slice geometry
and the canonical volume; and the same series tilted (resampled).

Run: PYTHONPATH=platform:tests .venv/bin/python bench/bench_dicom_import.py [--slices 300]
"""

import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "platform"), str(ROOT / "tests")]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "osteoscreen.settings.test")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
from pydicom.uid import generate_uid  # noqa: E402

from cases.dicom.reader import read_dicom  # noqa: E402

from dicom_helpers import write_ct_series, write_dose_report, write_localizer  # noqa: E402


def write_study(root: Path, slices: int, tilt_degrees: float = 0.0) -> None:
    study = generate_uid()
    hu = np.random.default_rng(0).integers(-1000, 1500, (slices, 512, 512)).astype(np.int16)
    tilt = math.radians(tilt_degrees)
    write_ct_series(
        root / "thin",
        study_uid=study,
        size=(512, 512, slices),
        spacing=(0.7, 0.7, 1.0),
        hu=hu,
        orientation=(1, 0, 0, 0, math.cos(tilt), math.sin(tilt)),
        name=lambda k: f"IM{k:05d}",
        positions=[[-180.0, -180.0, 100.0 + k] for k in range(slices)],
    )
    write_ct_series(
        root / "thick",
        study_uid=study,
        size=(512, 512, slices // 5),
        spacing=(0.7, 0.7, 5.0),
        hu=hu[::5],
        name=lambda k: f"IM{k:05d}",
        series_number=4,
    )
    write_localizer(root / "loc", study_uid=study)
    write_dose_report(root / "RDSR", study_uid=study, dlp_mgycm=300.0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--slices", type=int, default=300)
    args = parser.parse_args()
    for tilt in (0.0, 12.0):
        with tempfile.TemporaryDirectory() as folder:
            write_study(Path(folder), args.slices, tilt)
            start = time.perf_counter()
            volume = read_dicom(Path(folder), key="bench")
            seconds = time.perf_counter() - start
        notes = "; ".join(volume.metadata["import_report"]["notes"])
        print(
            f"tilt {tilt:4.1f} deg: {args.slices + args.slices // 5 + 2} files -> {volume.image.GetSize()} in "
            f"{seconds:.2f} s ({notes})"
        )


if __name__ == "__main__":
    main()
