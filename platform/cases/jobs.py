"""Background imports: big uploads and whole cohort folders run on the `cpu` queue."""

from pathlib import Path

from django.contrib.auth import get_user_model

from jobs.registry import JobContext, job_handler

from . import services
from .validation import ImportRejected


@job_handler("cases.import_file", queue="cpu", time_limit=3600)
def import_file(ctx: JobContext) -> dict:
    path = Path(ctx.params["path"])
    ctx.progress(5, f"reading {ctx.params.get('filename', path.name)}")
    try:
        outcome = services.case_import(path=path, actor=ctx.owner, study_id=ctx.params.get("study_id", ""),
                                       sex=ctx.params.get("sex", ""), birth_year=ctx.params.get("birth_year"))
    except ImportRejected as exc:
        # Name the user's file, not our staging copy.
        raise ImportRejected(str(exc).replace(path.name, ctx.params.get("filename", "the file"))) from exc
    finally:
        services.remove_quietly(path)
    ctx.log(f"{'imported' if outcome.created else 'already stored'}: {outcome.case.patient.study_id}")
    return {"case_id": outcome.case.pk, "created": outcome.created}


@job_handler("cases.import_folder", queue="cpu", time_limit=6 * 3600)
def import_folder(ctx: JobContext) -> dict:
    def on_progress(done: int, total: int, study_id: str) -> None:
        ctx.progress(100.0 * done / total, f"{done}/{total} cases ({study_id})")

    owner = get_user_model().objects.filter(pk=ctx.owner.pk).first() if ctx.owner else None
    outcomes = services.cohort_folder_import(folder=Path(ctx.params["folder"]), actor=owner,
                                             cohort_name=ctx.params.get("cohort", ""), on_progress=on_progress)
    return {"cases": len(outcomes), "created": sum(o.created for o in outcomes)}
