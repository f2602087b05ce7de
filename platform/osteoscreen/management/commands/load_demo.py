"""load_demo: the demo study, built the way a real one is, through the platform's own services.

1. a synthetic LDCT cohort (phantom generator) -> var/demo-cohort (generated once, reused);
2. import (images, QCT, exclusions) into the cohort "Demo study", and a frozen split;
3. reading: the interobserver set to reader1 and reader2, the rest to reader1 (the junior reader, as
   in the paper); the generator's reader masks are saved and submitted as their VOIs, reader2 (senior)
   approves them into reference VOIs; a few cases stay open so the worklist has work;
4. the model pipeline (retrain segmentation -> segment cohort -> retrain classifier, then promote) is
   started as background jobs, which the worker runs once the platform is up: follow it on /jobs/.

Run again, it finds the cohort and does nothing.
"""

import time
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from cases.models import Cohort
from cases.services import SplitParams, cohort_folder_import, split_create
from osteoscreen.demo.pipeline import DEMO_COHORT, demo_pipeline_start
from osteoscreen.demo.reading import demo_reading_load
from phantom.case import CaseOptions
from phantom.cohort import CohortConfig, write_cohort

# Why these sizes: see README ("Demo data"). 256-pixel slices keep generation, import and the
# 2-core demo training in minutes while the anatomy and HU behaviour stay those of the 512 matrix.
DEFAULT_CASES = 60
DEFAULT_MATRIX = 256
DEFAULT_SEED = 2024
INTEROBSERVER_CASES = 10
OPEN_CASES = 3
EXCLUSION_FRACTION = 0.12
# Each case's HU drawn with its own calibration offset and gain, as opportunistic CT without a calibration
# phantom has (phantom/scanner.py): without it, bone status lives in mean HU alone and the demo's baseline
# beats any texture model; with it, the dashboard shows what radiomics adds, or does not.
CALIBRATION = "spread"


class Command(BaseCommand):
    help = "Generate and load the demo study (idempotent), then queue the model pipeline."

    def add_arguments(self, parser):
        parser.add_argument("--cases", type=int, default=DEFAULT_CASES)
        parser.add_argument("--matrix", type=int, default=DEFAULT_MATRIX)
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
        parser.add_argument("--folder", default=str(Path(settings.VAR_DIR) / "demo-cohort"))
        parser.add_argument("--no-train", action="store_true", help="do not queue the model pipeline")

    def handle(self, *args, cases, matrix, seed, folder, no_train, **options):
        if Cohort.objects.filter(name=DEMO_COHORT).exists():
            self.stdout.write(f"demo data present (cohort '{DEMO_COHORT}'); nothing to do")
            return
        users = self._users()
        folder = Path(folder)
        self._generate(folder, cases=cases, matrix=matrix, seed=seed)
        started = time.monotonic()
        outcomes = cohort_folder_import(
            folder=folder,
            cohort_name=DEMO_COHORT,
            actor=users["coordinator"],
            on_progress=lambda d, t, s: self.stdout.write(f"\r  import {d}/{t}", ending=""),
        )
        self.stdout.write(f"\nimported {len(outcomes)} cases in {time.monotonic() - started:.0f} s")
        cohort = Cohort.objects.get(name=DEMO_COHORT)
        split = split_create(cohort=cohort, params=SplitParams(seed=seed), actor=users["coordinator"])
        self.stdout.write(
            f"split v{split.version}: "
            + ", ".join(
                f"{s} {split.memberships.filter(subset=s).count()}"
                for s in ("training", "validation", "test")
            )
        )
        n_training = split.memberships.filter(subset="training").count()
        summary = demo_reading_load(
            cohort=cohort,
            folder=folder,
            users=users,
            seed=seed,
            interobserver_count=min(INTEROBSERVER_CASES, n_training),
            open_cases=OPEN_CASES,
        )
        self.stdout.write(f"reading: {summary}")
        if not no_train:
            self._start_pipeline(users["pi"])

    def _users(self) -> dict:
        User = get_user_model()
        names = {"reader1": "reader1", "reader2": "reader2", "coordinator": "coordinator", "pi": "pi"}
        users = {key: User.objects.filter(username=name).first() for key, name in names.items()}
        missing = [k for k, u in users.items() if u is None]
        if missing:
            raise CommandError(f"run `manage.py create_demo_users` first (missing: {', '.join(missing)})")
        return users

    def _generate(self, folder: Path, *, cases: int, matrix: int, seed: int) -> None:
        if (folder / "manifest.csv").exists():
            self.stdout.write(f"using the synthetic cohort in {folder}")
            return
        started = time.monotonic()
        config = CohortConfig(
            out=folder,
            cases=cases,
            seed=seed,
            preview=False,
            options=CaseOptions(
                matrix=matrix, exclusion_fraction=EXCLUSION_FRACTION, readers=True, calibration=CALIBRATION
            ),
        )
        write_cohort(config, progress=lambda d, t: self.stdout.write(f"\r  generate {d}/{t}", ending=""))
        self.stdout.write(
            f"\ngenerated {cases} synthetic cases ({matrix}x{matrix}) in {time.monotonic() - started:.0f} s"
        )

    def _start_pipeline(self, pi) -> None:
        job = demo_pipeline_start(owner=pi)
        self.stdout.write(
            f"queued the model pipeline as job #{job.pk}: follow it on the jobs page, /jobs/{job.pk}/"
        )
