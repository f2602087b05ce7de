"""Puts platform/ on sys.path for every entry point that does not start from manage.py."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PLATFORM = ROOT / "platform"


def add_platform_to_path() -> None:
    # Appended, never prepended, so that the standard library's `platform` module wins.
    for folder in (str(PLATFORM), str(ROOT)):
        if folder not in sys.path:
            sys.path.append(folder)
