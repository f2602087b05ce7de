"""generate_cohort --cases N --seed S --out DIR [--dicom] [--preview] [...]

Writes a synthetic LDCT hip cohort (images, reference and reader masks, manifest.csv, qct.csv, optional
DICOM series and PNG montages) with the plain-Python phantom generator; see platform/phantom/README.md
for every option. Import it afterwards with `import_cases DIR`.
"""

import time

from django.core.management.base import BaseCommand, CommandError

from phantom.cli import add_arguments, config_from_args
from phantom.cohort import write_cohort


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        add_arguments(parser)

    def handle(self, *args, **options):
        try:
            config = config_from_args(_Namespace(options))
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        started = time.monotonic()
        write_cohort(
            config, progress=lambda done, total: self.stdout.write(f"\rcase {done}/{total}", ending="")
        )
        self.stdout.write("")
        self.stdout.write(
            self.style.SUCCESS(
                f"wrote {config.cases} cases to {config.out} in {time.monotonic() - started:.0f} s"
            )
        )


class _Namespace:
    """Django passes options as a dict; the shared parser code reads attributes."""

    def __init__(self, options: dict):
        self.__dict__.update(options)
