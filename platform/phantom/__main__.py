"""`PYTHONPATH=platform python -m phantom --cases N --seed S --out DIR [--dicom] [--preview]`."""

import argparse
import sys
import time

from .cli import add_arguments, config_from_args
from .cohort import write_cohort


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m phantom", description="Write a synthetic LDCT hip cohort."
    )
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        config = config_from_args(args)
    except ValueError as error:
        parser.error(str(error))
    started = time.perf_counter()
    manifest = write_cohort(
        config, progress=lambda done, total: print(f"case {done}/{total}", file=sys.stderr)
    )
    print(f"wrote {config.cases} cases to {manifest.parent} in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
