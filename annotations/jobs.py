"""Background work of the annotations app: reader agreement, computed when both readers have submitted."""

from jobs.registry import JobContext, job_handler

from .kinds import AGREEMENT_JOB
from .models import VOIRevision
from .services import agreement_compute


@job_handler(AGREEMENT_JOB, queue="cpu", time_limit=15 * 60)
def compute_agreement(ctx: JobContext) -> dict:
    first = VOIRevision.objects.select_related("assignment__case__patient").get(
        pk=ctx.params["first_revision_id"]
    )
    second = VOIRevision.objects.select_related("assignment__case").get(pk=ctx.params["second_revision_id"])
    ctx.progress(10, f"comparing the two readers' VOIs of {first.assignment.case.patient.study_id}")
    result = agreement_compute(first_revision=first, second_revision=second)
    ctx.log(f"Dice {result.dice_overall}, HD95 {result.hd95_mm} mm, ASSD {result.assd_mm} mm")
    return {"agreement_id": result.pk, "dice": result.dice_overall}
