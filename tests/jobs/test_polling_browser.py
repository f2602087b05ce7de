"""Headless Chromium: the jobs page asks after a running job less and less often (1, 2, 4, 8, then every
10 s), instead of once a second (88 requests in 45 s before)."""

import time

import pytest
from browser_helpers import launch, session_cookie, sync_api_or_skip
from django.utils import timezone

from jobs.models import Job

WATCH_SECONDS = 16


@pytest.mark.browser
def test_the_jobs_page_polls_a_running_job_with_a_growing_pause(live_server, client, pi, monkeypatch):
    sync_api = sync_api_or_skip()
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    job = Job.objects.create(
        kind="segmentation.train",
        owner=pi,
        status=Job.Status.RUNNING,
        progress=10,
        started_at=timezone.now(),
        heartbeat_at=timezone.now(),
    )
    with sync_api.sync_playwright() as playwright:
        browser = launch(playwright)
        context = browser.new_context(bypass_csp=True)
        context.add_cookies([session_cookie(client, pi, live_server)])
        page = context.new_page()
        polls: list[float] = []
        page.on("request", lambda r: f"/api/jobs/{job.pk}/" in r.url and polls.append(time.monotonic()))
        page.goto(f"{live_server.url}/jobs/")
        opened = time.monotonic()
        Job.objects.filter(pk=job.pk).update(progress=55, message="epoch 11/20")
        page.wait_for_function("document.querySelector('.job-bar').value === 55", timeout=5000)
        page.wait_for_timeout(WATCH_SECONDS * 1000)
        browser.close()
    gaps = [b - a for a, b in zip([opened, *polls], polls, strict=False)]
    # 1 + 2 + 4 + 8 s: four polls in 16 s where a once-a-second poll would make sixteen.
    assert 3 <= len(polls) <= 5, gaps
    assert all(later >= earlier * 1.5 for earlier, later in zip(gaps[1:], gaps[2:], strict=False)), gaps
