"""import_cases PATH [--qct FILE.csv] [--cohort NAME] [--study-id ID] [--series N|CODE]

PATH is a NIfTI file, a DICOM export (.zip, or a folder: files are recognised by content whatever their
names, in nested folders, DICOMDIR media and zips), a folder of such files, or a cohort folder with a
manifest.csv (as `generate_cohort` writes). Every DICOM study found becomes one case; its series is
chosen by stated rules (README) unless --series names one. Bad input prints one error line naming the
problem and stores nothing for that case."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from cases import services
from cases.validation import NIFTI_SUFFIXES, ImportRejected


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--qct", help="QCT CSV to import after the images")
        parser.add_argument(
            "--cohort", default="", help="put the imported cases in this cohort (created if new)"
        )
        parser.add_argument(
            "--study-id", default="", help="study id for a single NIfTI file or an anonymised DICOM study"
        )
        parser.add_argument(
            "--series",
            default="",
            help="read this series of the DICOM study (its index or code in "
            "the import report) instead of the one the rules choose",
        )

    def handle(self, *args, path, qct, cohort, study_id, series, **options):
        source = Path(path)
        if not source.exists():
            raise CommandError(f"{source} does not exist")
        if source.name.upper() == "DICOMDIR":  # a CD/DVD medium: its files lie beside the directory
            source = source.parent
        # The QCT file is read and every row checked before any image is imported, so a wrong file
        # stops the command before it has stored anything.
        qct_text = _qct_text(qct) if qct else None
        if source.is_dir() and (source / "manifest.csv").exists():
            outcomes = self._folder(source, cohort)
        else:
            outcomes = self._files(source, study_id, cohort, series)
        if qct_text is not None:
            try:
                stored = services.qct_import_csv(text=qct_text)
            except ImportRejected as exc:
                raise CommandError(f"{qct}: {exc}") from exc
            self.stdout.write(f"QCT: {len(stored)} measurement(s)")
        created = sum(o.created for o in outcomes)
        self.stdout.write(
            self.style.SUCCESS(f"{created} case(s) imported, {len(outcomes) - created} already stored")
        )

    def _folder(self, folder: Path, cohort: str):
        def progress(done, total, study_id):
            self.stdout.write(f"  [{done}/{total}] {study_id}")

        try:
            return services.cohort_folder_import(folder=folder, cohort_name=cohort, on_progress=progress)
        except ImportRejected as exc:
            raise CommandError(str(exc)) from exc

    def _files(self, source: Path, study_id: str, cohort: str, series: str):
        singles = (
            [source]
            if not source.is_dir()
            else sorted(
                p
                for p in source.iterdir()
                if p.is_file() and p.name.lower().endswith((*NIFTI_SUFFIXES, ".zip"))
            )
        )
        outcomes, failed = [], 0
        for item in singles:
            sid = study_id or ("" if _is_dicom(item) else item.name.split(".")[0])
            try:
                outcomes.append(services.case_import(path=item, study_id=sid, series=series))
            except ImportRejected as exc:
                if not source.is_dir():  # one input: its one error line, and a non-zero exit
                    raise CommandError(f"{item.name}: {exc}") from exc
                failed += 1
                self.stderr.write(f"error: {item.name}: {exc}")
        if source.is_dir():
            rest = sorted(p for p in source.iterdir() if p not in singles)
            studies = self._dicom_studies(rest, study_id, series)
            outcomes += [s.outcome for s in studies if s.outcome]
            failed += sum(1 for s in studies if s.error)
        if cohort and outcomes:
            existing = services.Cohort.objects.filter(name=cohort).first()
            if existing:
                services.cohort_add_cases(cohort=existing, cases=[o.case for o in outcomes])
            else:
                services.cohort_create(name=cohort, cases=[o.case for o in outcomes])
        if failed:
            raise CommandError(f"{failed} input(s) rejected (named above), {len(outcomes)} imported")
        if not outcomes:
            raise CommandError(
                f"{source}: no NIfTI file, zip or DICOM study found (DICOM files are recognised by "
                "their content, whatever their names)"
            )
        return outcomes

    def _dicom_studies(self, sources: list[Path], study_id: str, series: str):
        try:
            studies = services.dicom_folder_import(sources=sources, study_id=study_id, series=series)
        except ImportRejected as exc:
            self.stderr.write(f"error: {exc}")
            return []
        for study in studies:
            if study.error or study.outcome is None:
                self.stderr.write(f"error: {study.label}: {study.error}")
            else:
                report = study.outcome.case.import_report
                skipped = len(report.get("passed_over", []))
                self.stdout.write(
                    f"  {study.label}: series {report['chosen']['index']} "
                    f"({report['chosen']['description'] or 'no description'}) read; {skipped} passed over"
                )
        return studies


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
