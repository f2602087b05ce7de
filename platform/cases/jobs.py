"""Background imports: big uploads run on the `cpu` queue. (A cohort folder imports in the `import_cases`
command's own process, with its progress on the terminal.)"""

from pathlib import Path

from django.contrib.auth import get_user_model

from jobs.registry import JobContext, job_handler

from . import services
from .kinds import IMPORT_FILE_JOB, IMPORT_PACS_JOB
from .validation import ImportRejected


@job_handler(IMPORT_FILE_JOB, queue="cpu", time_limit=3600)
def import_file(ctx: JobContext) -> dict:
    path = Path(ctx.params["path"])
    ctx.progress(5, f"reading {ctx.params.get('filename', path.name)}")
    try:
        outcome = services.case_import(
            path=path,
            actor=ctx.owner,
            study_id=ctx.params.get("study_id", ""),
            sex=ctx.params.get("sex", ""),
            birth_year=ctx.params.get("birth_year"),
            series=ctx.params.get("series", ""),
        )
    except ImportRejected as exc:
        # Name the user's file, not our staging copy.
        raise ImportRejected(str(exc).replace(path.name, ctx.params.get("filename", "the file"))) from exc
    finally:
        services.remove_quietly(path)
    ctx.log(f"{'imported' if outcome.created else 'already stored'}: {outcome.case.patient.study_id}")
    return {"case_id": outcome.case.pk, "created": outcome.created}


@job_handler(IMPORT_PACS_JOB, queue="cpu", time_limit=6 * 3600)
def import_pacs(ctx: JobContext) -> dict:
    """Studies picked from a PACS search: each retrieved (WADO-RS) and imported; one refused study is
    logged and the others still import."""
    tokens = list(ctx.params["studies"])
    owner = get_user_model().objects.filter(pk=ctx.owner.pk).first() if ctx.owner else None
    cases, failed = [], 0
    for number, token in enumerate(tokens, start=1):
        start = 100.0 * (number - 1) / len(tokens)
        ctx.progress(start, f"study {number}/{len(tokens)}: retrieving")

        def retrieved(images: int, number: int = number, start: float = start) -> None:
            ctx.progress(start, f"study {number}/{len(tokens)}: {images} images retrieved")

        try:
            results = services.pacs_study_import(
                pacs_name=ctx.params["pacs"],
                token=token,
                actor=owner,
                study_id=ctx.params.get("study_id", ""),
                on_retrieved=retrieved,
            )
        except ImportRejected as exc:
            failed += 1
            ctx.log(f"study {number}: {exc}")
            continue
        for result in results:
            if result.outcome:
                cases.append(result.outcome.case.pk)
                ctx.log(
                    f"study {number}: {'imported' if result.outcome.created else 'already stored'}: "
                    f"case {result.outcome.case.pk}"
                )
            else:
                failed += 1
                ctx.log(f"study {number}: {result.error}")
    ctx.progress(100.0, f"{len(cases)} case(s) from {len(tokens)} study/studies, {failed} refused")
    return {"cases": cases, "failed": failed}
