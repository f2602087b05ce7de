"""A self-test job: proves end to end that a worker takes jobs from the broker and reports progress.
Started from the jobs page by an admin, and by the test suite."""

import time

from .registry import JobContext, job_handler

# Bounds keep a self-test from occupying a worker for long.
MAX_STEPS = 1000
MAX_STEP_SECONDS = 5.0


@job_handler("jobs.selftest", queue="cpu", time_limit=600)
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
