"""The demo's model pipeline as one background job: retrain segmentation (demo configuration) -> promote
-> segment the cohort -> retrain the classifier on the predicted masks -> promote both scored models.

Each step is its own job (its progress, log and chart show on /jobs/ as usual); this job starts them one
after the other and waits for each (running it itself when no other worker has taken it).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from cases.models import Cohort
from inference.errors import InvalidRequest
from inference.kinds import DEMO_PIPELINE_JOB
from inference.models import ModelVersion
from inference.training.classifier import classifier_training_start
from inference.training.jobgroups import jobs_await
from inference.training.segmentation import segment_cohort_start, segmentation_training_start
from inference.training.versions import model_version_promote
from jobs.models import Job
from jobs.registry import JobContext
from jobs.services import job_start

DEMO_COHORT = "Demo study"
Family = ModelVersion.Family


@transaction.atomic
def demo_pipeline_start(
    *,
    owner: Any,
    cohort: Cohort | None = None,
    config_name: str = "demo",
    epochs: int | None = None,
    stage_overrides: dict | None = None,
    randomised_cases: int | None = None,
) -> Job:
    """Queue the whole model pipeline for the demo cohort (default: "Demo study", else the newest cohort).
    The owner must be a PI: the pipeline promotes the versions it trains in the owner's name."""
    cohort = (
        cohort or Cohort.objects.filter(name=DEMO_COHORT).first() or Cohort.objects.order_by("-pk").first()
    )
    if cohort is None:
        raise InvalidRequest("there is no cohort to train on")
    return job_start(
        kind=DEMO_PIPELINE_JOB,
        owner=owner,
        params={
            "cohort_id": cohort.pk,
            "config_name": config_name,
            "epochs": epochs,
            "stage_overrides": stage_overrides or {},
            "randomised_cases": randomised_cases,
            "subject": cohort.name,
        },
    )


def demo_pipeline_run(ctx: JobContext) -> dict:
    owner, cohort = ctx.owner, Cohort.objects.get(pk=ctx.params["cohort_id"])
    steps = _Steps(ctx)
    training = steps.job(
        "segmentation training",
        lambda: segmentation_training_start(
            owner=owner,
            cohort=cohort,
            config_name=ctx.params["config_name"],
            epochs=ctx.params.get("epochs"),
            stage_overrides=ctx.params.get("stage_overrides"),
            randomised_cases=ctx.params.get("randomised_cases"),
        ),
    )
    _await(ctx, training, 0, 70, "segmentation training")
    segmentation = _promoted(ModelVersion.objects.get(job=training), owner)
    segmenting = steps.job(
        "segmenting the cohort",
        lambda: segment_cohort_start(owner=owner, cohort=cohort, version=segmentation),
    )
    _await(ctx, segmenting, 70, 85, "segmenting the cohort")
    classifying = steps.job(
        "classifier training", lambda: classifier_training_start(owner=owner, cohort=cohort)
    )
    _await(ctx, classifying, 85, 100, "classifier training")
    promoted = [_promoted(v, owner) for v in ModelVersion.objects.filter(job=classifying)]
    return {
        "segmentation_version": segmentation.number,
        **{f"{v.family}_version": v.number for v in promoted},
    }


class _Steps:
    """The pipeline's step jobs, remembered in job.data: a pipeline retried after its worker died picks up
    the jobs it had started instead of starting (and being refused) a second training."""

    def __init__(self, ctx: JobContext) -> None:
        self.ctx = ctx
        self.started: dict[str, int] = dict(ctx.job.data.get("steps", {}))

    def job(self, name: str, start) -> Job:
        if name in self.started:
            return Job.objects.get(pk=self.started[name])
        job = start()
        self.started[name] = job.pk
        self.ctx.publish("steps", self.started)
        return job


def _promoted(version: ModelVersion, owner) -> ModelVersion:
    version.refresh_from_db()
    return (
        version
        if version.status == ModelVersion.Status.ACTIVE
        else model_version_promote(version=version, actor=owner)
    )


def _await(ctx: JobContext, job: Job, start: float, stop: float, what: str) -> Job:
    finished = jobs_await(ctx, [job.pk], percent_from=start, percent_to=stop, what=what)[job.pk]
    if finished.status != Job.Status.SUCCEEDED:
        reason = finished.error.strip().splitlines()[-1] if finished.error.strip() else "no reason recorded"
        raise InvalidRequest(f"{what} {finished.status}: {reason}")
    ctx.log(f"{what}: done (job {job.pk})")
    return finished
