"""import_cases PATH [--qct FILE.csv] [--cohort NAME]

PATH is a NIfTI file, a DICOM series (.zip or folder), a folder of such files, or a cohort folder with a
manifest.csv (as `generate_cohort` writes). Bad input prints one error line naming the problem and
stores nothing for that case."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from cases import services
from cases.validation import NIFTI_SUFFIXES, ImportRejected


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--qct", help="QCT CSV to import after the images")
        parser.add_argument("--cohort", default="", help="put the imported cases in this cohort (created if new)")
        parser.add_argument("--study-id", default="", help="study id for a single NIfTI file")

    def handle(self, *args, path, qct, cohort, study_id, **options):
        source = Path(path)
        if not source.exists():
            raise CommandError(f"{source} does not exist")
        # The QCT file is read and every row checked before any image is imported, so a wrong file
        # stops the command before it has stored anything.
        qct_text = _qct_text(qct) if qct else None
        if source.is_dir() and (source / "manifest.csv").exists():
            outcomes = self._folder(source, cohort)
        else:
            outcomes = self._files(source, study_id, cohort)
        if qct_text is not None:
            try:
                stored = services.qct_import_csv(text=qct_text)
            except ImportRejected as exc:
                raise CommandError(f"{qct}: {exc}") from exc
            self.stdout.write(f"QCT: {len(stored)} measurement(s)")
        created = sum(o.created for o in outcomes)
        self.stdout.write(self.style.SUCCESS(f"{created} case(s) imported, {len(outcomes) - created} already stored"))

    def _folder(self, folder: Path, cohort: str):
        def progress(done, total, study_id):
            self.stdout.write(f"  [{done}/{total}] {study_id}")

        try:
            return services.cohort_folder_import(folder=folder, cohort_name=cohort, on_progress=progress)
        except ImportRejected as exc:
            raise CommandError(str(exc)) from exc

    def _files(self, source: Path, study_id: str, cohort: str):
        candidates = [source] if not source.is_dir() or _is_dicom_folder(source) else sorted(
            p for p in source.iterdir() if p.name.lower().endswith((*NIFTI_SUFFIXES, ".zip")) or p.is_dir())
        outcomes, failed = [], 0
        for item in candidates:
            sid = study_id or item.name.split(".")[0]
            try:
                outcomes.append(services.case_import(path=item, study_id=sid if not _is_dicom(item) else study_id))
            except ImportRejected as exc:
                if len(candidates) == 1:  # one input: its one error line, and a non-zero exit
                    raise CommandError(f"{item.name}: {exc}") from exc
                failed += 1
                self.stderr.write(f"error: {item.name}: {exc}")
        if cohort and outcomes:
            existing = services.Cohort.objects.filter(name=cohort).first()
            if existing:
                services.cohort_add_cases(cohort=existing, cases=[o.case for o in outcomes])
            else:
                services.cohort_create(name=cohort, cases=[o.case for o in outcomes])
        if failed:
            raise CommandError(f"{failed} input(s) rejected (named above), {len(outcomes)} imported")
        return outcomes


def _qct_text(qct: str) -> str:
    try:
        text = services.qct_csv_decode(Path(qct).read_bytes())
        services.qct_csv_parse(text)
    except ImportRejected as exc:
        raise CommandError(f"{qct}: {exc}") from exc
    except OSError as exc:
        raise CommandError(f"{qct}: cannot be read ({exc.strerror})") from exc
    return text


def _is_dicom(path: Path) -> bool:
    return path.suffix.lower() == ".zip" or path.is_dir()


def _is_dicom_folder(path: Path) -> bool:
    return any(p.suffix.lower() == ".dcm" for p in path.iterdir())
