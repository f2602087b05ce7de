"""Background imports: big uploads run on the `cpu` queue. (A cohort folder imports in the `import_cases`
command's own process, with its progress on the terminal.)"""

from pathlib import Path

from jobs.registry import JobContext, job_handler

from . import services
from .kinds import IMPORT_FILE_JOB


@job_handler(IMPORT_FILE_JOB, queue="cpu", time_limit=3600)
def import_file(ctx: JobContext) -> dict:
    path = Path(ctx.params["path"])
    ctx.progress(5, f"reading {ctx.params.get('filename', path.name)}")
    try:
        outcome = services.case_import(path=path, actor=ctx.owner, study_id=ctx.params.get("study_id", ""),
                                       sex=ctx.params.get("sex", ""), birth_year=ctx.params.get("birth_year"))
    finally:
        services.remove_quietly(path)
    ctx.log(f"{'imported' if outcome.created else 'already stored'}: case {outcome.case.pk}")
    return {"case_id": outcome.case.pk, "created": outcome.created}

