"""Runs everything on one machine in the foreground: the broker (embedded unless CELERY_BROKER_URL is
set), one Celery worker for both queues, and the web server. Ctrl-C stops all of them."""

import os
import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from osteoscreen.embedded import ROOT, child_environment, start_embedded_broker, worker_command


class Command(BaseCommand):
    help = "Run broker + Celery worker + web server in the foreground (Ctrl-C stops all)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bind", default="127.0.0.1:8000")
        parser.add_argument("--web-workers", type=int, default=2)

    def handle(self, *args: Any, **options: Any) -> None:
        processes: list[tuple[str, subprocess.Popen]] = []
        extra = {}
        if "CELERY_BROKER_URL" not in os.environ:
            broker, url = start_embedded_broker()
            processes.append(("broker", broker))
            extra["CELERY_BROKER_URL"] = url
            self.stdout.write(f"embedded broker: {url}")
        env = child_environment(**extra)
        # One worker per queue, as in production: a long training on `gpu` never holds up imports,
        # feature extraction or agreement on `cpu`.
        processes.append(("cpu worker", subprocess.Popen(worker_command("cpu", hostname="cpu@%h"), cwd=ROOT, env=env)))
        processes.append(("gpu worker", subprocess.Popen(worker_command("gpu", hostname="gpu@%h"), cwd=ROOT, env=env)))
        web = [sys.executable, "-m", "gunicorn", "osteoscreen.wsgi:application", "--bind", options["bind"],
               "--workers", str(options["web_workers"]), "--threads", "4", "--timeout", "600",
               "--access-logfile", "-"]
        processes.append(("web", subprocess.Popen(web, cwd=ROOT, env=env)))
        self.stdout.write(self.style.SUCCESS(f"OsteoScreen on http://{options['bind']}/  (database: "
                                             f"{settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}; Ctrl-C stops)"))
        try:
            while all(p.poll() is None for _, p in processes):
                time.sleep(0.5)
            dead = [name for name, p in processes if p.poll() is not None]
            self.stderr.write(f"{', '.join(dead)} stopped; stopping the rest")
        except KeyboardInterrupt:
            self.stdout.write("stopping...")
        finally:
            for _, process in reversed(processes):
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            for _, process in reversed(processes):
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
