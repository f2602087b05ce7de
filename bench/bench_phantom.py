"""Time and memory of one 512 x 512 x 200 phantom case on one core (the issue's budget: <= 5 s, <= 1.5 GiB).

Run: OMP_NUM_THREADS=1 PYTHONPATH=platform .venv/bin/python bench/bench_phantom.py [--cases 3] [--write]
Prints, per case, generation seconds (and NIfTI writing seconds with --write), then the process's peak
RSS (resource.getrusage, the whole process including Python and numpy) and the peak of Python-tracked
allocations of one case (tracemalloc, numpy arrays included).
"""

import argparse
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "platform"))

import SimpleITK as sitk  # noqa: E402

from phantom.case import CaseOptions, generate_case  # noqa: E402

sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=3)
    parser.add_argument("--write", action="store_true", help="also time writing image + 3 masks as .nii.gz")
    args = parser.parse_args()
    options = CaseOptions(matrix=512, slices=200)
    times = []
    for index in range(args.cases):
        started = time.perf_counter()
        case = generate_case(seed=0, index=index, options=options)
        elapsed = time.perf_counter() - started
        times.append(elapsed)
        line = f"case {index}: {case.image.GetSize()} generated in {elapsed:.2f} s"
        if args.write:
            with tempfile.TemporaryDirectory() as folder:
                started = time.perf_counter()
                for n, image in enumerate((case.image, case.label, *case.reader_labels)):
                    sitk.WriteImage(image, str(Path(folder) / f"{n}.nii.gz"), useCompression=True)
                line += f", written in {time.perf_counter() - started:.2f} s"
        print(line, flush=True)
        del case
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    tracemalloc.start()
    generate_case(seed=0, index=0, options=options)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"generation: mean {sum(times) / len(times):.2f} s, max {max(times):.2f} s over {len(times)} cases "
        f"(OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']})"
    )
    print(
        f"peak RSS of the process: {peak_rss:.2f} GiB; tracemalloc peak of one case: {traced_peak / 1024**3:.2f} GiB"
    )


if __name__ == "__main__":
    main()
