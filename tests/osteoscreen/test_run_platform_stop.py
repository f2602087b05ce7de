"""SIGTERM to `manage.py run_platform` (what systemd, `docker stop` and process managers send) stops the
embedded broker, both Celery workers and gunicorn with its workers, and a job that was running goes back
to the queue for the next worker instead of being lost."""

import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request

import psutil
import pytest

from jobs.models import Job
from osteoscreen.embedded import ROOT, child_environment

from selftest_job import SELFTEST_JOB
from worker_fixtures import _database_url, wait_for

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def answers(url: str) -> bool:
    return fetch(url)[0] == 200


def fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except OSError:
        return 0, b""


def alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.fixture
def platform_started(transactional_db, settings, tmp_path):
    # The settings `make demo` runs with (DEBUG off unless asked for), on this test's database and media.
    env = child_environment(
        DJANGO_SETTINGS_MODULE="osteoscreen.settings.local",
        DATABASE_URL=_database_url(settings),
        CELERY_TASK_ALWAYS_EAGER="false",
        MEDIA_ROOT=str(settings.MEDIA_ROOT),
    )
    # The workers import the tests' self-test job (tests/selftest_job.py), which production never registers.
    env["PYTHONPATH"] = os.pathsep.join([env["PYTHONPATH"], str(ROOT / "tests")])
    env.pop("DJANGO_DEBUG", None)
    port = free_port()
    log = open(tmp_path / "run_platform.log", "wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "run_platform",
            "--bind",
            f"127.0.0.1:{port}",
            "--web-workers",
            "1",
            "--var-dir",
            str(tmp_path / "var"),
            "--stop-timeout",
            "2",
            "--worker-import",
            "selftest_job",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    yield process, port, tmp_path / "run_platform.log"
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def test_sigterm_stops_everything_it_started_and_requeues_the_running_job(platform_started):
    process, port, log = platform_started
    # Queued before the workers start: a starting worker sends queued jobs (job_requeue_waiting).
    job = Job.objects.create(kind=SELFTEST_JOB, queue="cpu", params={"steps": 1000, "step_seconds": 0.1})
    try:
        wait_for(lambda: answers(f"http://127.0.0.1:{port}/api/health/"), timeout=180, every=1)
        wait_for(lambda: Job.objects.get(pk=job.pk).status == Job.Status.RUNNING, timeout=180, every=0.5)
    except AssertionError:
        raise AssertionError("the platform did not start:\n" + log.read_text()[-4000:]) from None
    started = psutil.Process(process.pid).children(recursive=True)
    names = " ".join(" ".join(p.cmdline()) for p in started)
    assert "redis-server" in names or "CELERY_BROKER_URL" in os.environ
    assert "gunicorn" in names and names.count("celery") >= 2

    site = f"http://127.0.0.1:{port}"
    served_with_debug_off(site)

    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=90) == 0, log.read_text()[-4000:]

    left = [p for p in started if alive(p)]
    for straggler in left:
        straggler.kill()
    assert not left, f"still running after SIGTERM: {[p.cmdline() for p in left]}"
    job.refresh_from_db()
    assert job.status == Job.Status.QUEUED, (job.status, job.message, log.read_text()[-3000:])
    assert job.attempts == 0 and job.worker == ""
    assert "released" in job.message


def served_with_debug_off(site: str) -> None:
    """What `make demo` serves with DEBUG off: static files through WhiteNoise (the site's CSS, the viewer
    bundle when built), the site's own 404 page, and nothing under /media/."""
    status, css = fetch(f"{site}/static/osteoscreen/site.css")
    assert status == 200 and b".topbar" in css
    if (ROOT / "frontend" / "dist" / "viewer" / "viewer.js").exists():
        assert fetch(f"{site}/static/viewer/viewer.js")[0] == 200
    status, page = fetch(f"{site}/no-such-page/")
    assert status == 404 and b"Not found (404)" in page and b"site.css" in page
    assert fetch(f"{site}/media/volumes/anything.nii.gz")[0] == 404
