"""A real Celery worker process against the real broker (Redis in CI, the embedded one otherwise),
sharing the test database. Tests using it need `transactional_db` so the worker sees committed rows."""

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from osteoscreen.embedded import ROOT, child_environment, start_embedded_broker, worker_command

WORKER_START_TIMEOUT_S = 60


def wait_for(predicate, timeout=90.0, every=0.2):
    """Polls until `predicate()` is truthy (and returns it), or fails the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError("condition not reached in time")


@pytest.fixture(scope="session")
def broker_url(tmp_path_factory):
    url = os.environ.get("CELERY_BROKER_URL")
    if url:
        yield url
        return
    process, url = start_embedded_broker(tmp_path_factory.mktemp("broker"))
    yield url
    process.terminate()
    process.wait(timeout=10)


def _database_url(settings) -> str:
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Worker:
    def __init__(self, env: dict, hostname: str, log_path: Path):
        self.env, self.hostname, self.log_path = env, hostname, log_path
        self.process: subprocess.Popen | None = None

    def start(self) -> "Worker":
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [*worker_command(hostname=self.hostname), "-I", "selftest_job"],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + WORKER_START_TIMEOUT_S
        while b"ready." not in self.log_path.read_bytes():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the Celery worker did not start:\n" + self.log_path.read_text()[-3000:])
            time.sleep(0.2)
        return self

    def children(self) -> list[int]:
        if self.process is None:
            raise RuntimeError("the worker has not been started; call start() first")
        out = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True).stdout
        return [int(p) for p in out.split()]

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


@pytest.fixture
def celery_worker_factory(transactional_db, settings, broker_url, tmp_path):
    from osteoscreen.celery_app import app

    old = (app.conf.broker_url, app.conf.task_always_eager)
    _reset_producer_pool(app)
    app.conf.broker_url = broker_url
    app.conf.task_always_eager = False
    settings.CELERY_TASK_ALWAYS_EAGER = False
    env = child_environment(
        DJANGO_SETTINGS_MODULE="osteoscreen.settings.test",
        DATABASE_URL=_database_url(settings),
        CELERY_BROKER_URL=broker_url,
        CELERY_TASK_ALWAYS_EAGER="false",
        MEDIA_ROOT=str(settings.MEDIA_ROOT),
    )
    # The worker also imports the tests' self-test job handler (tests/selftest_job.py), which production
    # never registers.
    env["PYTHONPATH"] = os.pathsep.join([env["PYTHONPATH"], str(Path(__file__).resolve().parent)])
    workers: list[Worker] = []

    def make(name: str = "testworker") -> Worker:
        worker = Worker(env, f"{name}@%h", tmp_path / f"{name}-{len(workers)}.log").start()
        workers.append(worker)
        return worker

    yield make
    for worker in workers:
        worker.stop()
    app.conf.broker_url, app.conf.task_always_eager = old
    _reset_producer_pool(app)


def _reset_producer_pool(app) -> None:
    # The producer pool is bound to the broker URL it was made with; drop it so the next use builds anew.
    app._after_fork()  # Celery's own reset of its connection and producer pools
