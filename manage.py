#!/usr/bin/env python
"""Django's command-line utility for OsteoScreen."""

import os
import sys
from pathlib import Path

# platform/ holds the project package and the core apps. It is a plain folder, never a package:
# a package named `platform` would shadow the standard library module that Django, Celery and torch
# import. Appending (not prepending) keeps the standard library first on the path.
ROOT = Path(__file__).resolve().parent
sys.path.append(str(ROOT / "platform"))


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "osteoscreen.settings.local")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
