"""Runs everything on one machine in the foreground: the broker (embedded unless CELERY_BROKER_URL is
set), one Celery worker per queue, and the web server. Ctrl-C (SIGINT) or SIGTERM (systemd, `docker stop`,
any process manager) stops all of them, and a running job goes back to the queue for the next worker."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from jobs.services import job_release_of_stopped_workers
from osteoscreen.celery_app import app as celery_app
from osteoscreen.embedded import ROOT, VAR, child_environment, start_embedded_broker, worker_command

# After a warm stop (workers finish their task, gunicorn its requests) has had --stop-timeout seconds,
# a cold stop cancels what still runs; this long is left for that before anything is killed.
COLD_STOP_SECONDS = 15.0
BROKER_STOP_SECONDS = 10.0
POLL_SECONDS = 0.5


class Child:
    """A process this command started, in its own process group so that a signal reaches its own
    children too (gunicorn's and Celery's pool processes) and nothing is left behind."""

    def __init__(self, name: str, command: list[str], env: dict[str, str]) -> None:
        self.name = name
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)

    @classmethod
    def adopt(cls, name: str, process: subprocess.Popen) -> "Child":
        child = cls.__new__(cls)
        child.name, child.process = name, process
        return child

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def signal(self, sig: int) -> None:
        if self.running:
            self.process.send_signal(sig)

    def wait(self, seconds: float) -> bool:
        try:
            self.process.wait(timeout=max(seconds, 0.0))
        except subprocess.TimeoutExpired:
            return False
        return True

    def kill_group(self) -> None:
        # The group outlives its leader when a pool child was orphaned; kill whatever is left in it.
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.process.wait()


def wait_all(children: list[Child], seconds: float) -> list[Child]:
    """Waits up to `seconds` for all of them; returns those still running."""
    deadline = time.monotonic() + seconds
    for child in children:
        child.wait(deadline - time.monotonic())
    return [child for child in children if child.running]


class Command(BaseCommand):
    help = "Run broker + Celery workers + web server in the foreground (Ctrl-C or SIGTERM stops all)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bind", default="127.0.0.1:8000")
        parser.add_argument("--web-workers", type=int, default=2)
        parser.add_argument(
            "--worker-import",
            action="append",
            default=[],
            metavar="MODULE",
            help="a module the workers also import (job handlers of a plug-in or of the tests)",
        )
        parser.add_argument(
            "--var-dir", type=Path, default=VAR, help="where the embedded broker's socket lives"
        )
        parser.add_argument(
            "--stop-timeout",
            type=float,
            default=20.0,
            help="seconds a warm stop may take before running jobs are cancelled and requeued",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        self.stop_requested = False
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._request_stop)
        broker, workers, web = None, [], None
        try:
            broker, env = self._broker_and_environment(options["var_dir"])
            # One worker per queue, as in production: a long training on `gpu` never holds up imports,
            # feature extraction or agreement on `cpu`.
            imports = [arg for module in options["worker_import"] for arg in ("-I", module)]
            workers = [
                Child("cpu worker", [*worker_command("cpu", hostname="cpu@%h"), *imports], env),
                Child("gpu worker", [*worker_command("gpu", hostname="gpu@%h"), *imports], env),
            ]
            web = Child("web", self._web_command(options), env)
            self.stdout.write(
                self.style.SUCCESS(
                    f"OsteoScreen on http://{options['bind']}/  (database: "
                    f"{settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}; Ctrl-C stops)"
                )
            )
            self._run_until_stopped([*workers, web])
        finally:
            self._stop(broker=broker, workers=workers, web=web, warm_seconds=options["stop_timeout"])

    def _request_stop(self, signum: int, frame: Any) -> None:
        # Only a flag: the main loop notices within POLL_SECONDS and stops everything in order.
        self.stop_requested = True

    def _broker_and_environment(self, var_dir: Path) -> tuple[Child | None, dict[str, str]]:
        if "CELERY_BROKER_URL" in os.environ:
            return None, child_environment()
        process, url = start_embedded_broker(var_dir)
        self.stdout.write(f"embedded broker: {url}")
        # This process sends too: the jobs it releases when stopping go to the broker it started.
        celery_app.conf.broker_url = url
        return Child.adopt("broker", process), child_environment(CELERY_BROKER_URL=url)

    @staticmethod
    def _web_command(options: dict[str, Any]) -> list[str]:
        return [
            sys.executable,
            "-m",
            "gunicorn",
            "osteoscreen.wsgi:application",
            "--bind",
            options["bind"],
            "--workers",
            str(options["web_workers"]),
            "--threads",
            "4",
            "--timeout",
            "600",
            "--graceful-timeout",
            str(int(options["stop_timeout"])),
            "--access-logfile",
            "-",
        ]

    def _run_until_stopped(self, children: list[Child]) -> None:
        while not self.stop_requested and all(child.running for child in children):
            time.sleep(POLL_SECONDS)
        dead = [child.name for child in children if not child.running]
        if dead:
            self.stderr.write(f"{', '.join(dead)} stopped; stopping the rest")
        else:
            self.stdout.write("stopping...")

    def _stop(
        self, *, broker: Child | None, workers: list[Child], web: Child | None, warm_seconds: float
    ) -> None:
        started = [child for child in [web, *workers] if child is not None]
        # Warm: gunicorn finishes the requests in flight, the workers their tasks, none takes a new one.
        for child in started:
            child.signal(signal.SIGTERM)
        left = wait_all(started, warm_seconds)
        # Cold: a worker cancels its running task without acknowledging it (acks_late), so the job is
        # released below instead of lost.
        for child in left:
            child.signal(signal.SIGQUIT)
        wait_all(left, COLD_STOP_SECONDS)
        for child in started:
            child.kill_group()
        self._release_jobs(workers)
        # The broker goes last: the workers needed it to hand their unacknowledged tasks back.
        if broker is not None:
            broker.signal(signal.SIGTERM)
            wait_all([broker], BROKER_STOP_SECONDS)
            broker.kill_group()

    def _release_jobs(self, workers: list[Child]) -> None:
        try:
            released = job_release_of_stopped_workers(main_pids=[w.process.pid for w in workers])
        except Exception as error:  # noqa: BLE001 - the broker must still be stopped; a restarting worker recovers
            self.stderr.write(
                f"could not release the stopped workers' jobs ({error}); the next worker recovers them"
            )
            return
        if released:
            self.stdout.write(f"jobs back in the queue for the next worker: {released}")
