"""The demo's job handler, registered by the osteoscreen app's ready() like every app's `jobs` module."""

from inference.jobs import TRAINING_TIME_LIMIT_S
from inference.kinds import DEMO_PIPELINE_JOB
from jobs.registry import JobContext, job_handler

from .pipeline import demo_pipeline_run


@job_handler(DEMO_PIPELINE_JOB, queue="gpu", time_limit=TRAINING_TIME_LIMIT_S)
def demo_pipeline(ctx: JobContext) -> dict:
    return demo_pipeline_run(ctx)
