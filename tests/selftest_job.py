"""A self-test job for the tests only: proves end to end that a worker takes jobs from the broker and
reports progress. Registered in the test process by tests/jobs/conftest.py and in a test's Celery worker
by `-I selftest_job` (tests/worker_fixtures.py); production never registers it."""

import time

from jobs.registry import JobContext, job_handler

# Bounds keep a self-test from occupying a worker for long.
MAX_STEPS = 1000
MAX_STEP_SECONDS = 5.0


SELFTEST_JOB = "tests.selftest"


@job_handler(SELFTEST_JOB, queue="cpu", time_limit=600)
def selftest(ctx: JobContext) -> dict:
    steps = max(1, min(int(ctx.params.get("steps", 10)), MAX_STEPS))
    pause = max(0.0, min(float(ctx.params.get("step_seconds", 0.1)), MAX_STEP_SECONDS))
    for step in range(steps):
        time.sleep(pause)
        ctx.progress(100.0 * (step + 1) / steps, f"step {step + 1}/{steps}")
    if ctx.params.get("fail"):
        raise RuntimeError("self-test asked to fail")
    ctx.log(f"self-test finished {steps} steps")
    return {"steps": steps, "attempt": ctx.job.attempts}
