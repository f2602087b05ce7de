"""Peak memory of a web worker while a ~200 MB CT is uploaded through the API (issue 16's target: < 300 MB).

The platform runs as `run_platform` runs it: gunicorn (one sync worker, so every request lands in the
process measured) on a temporary SQLite database and MEDIA_ROOT, the embedded Redis broker, and one
Celery worker that does the import. A coordinator posts an uncompressed NIfTI of 512 x 512 x N int16
voxels (N = 400: 210 MB) to /api/cases/import/; the web worker checks its header, stores it for the job
and answers 202; the Celery worker imports it. It prints, for the web worker: its peak RSS (VmHWM) before
the upload (after a warm-up request) and after it, and for the Celery worker its peak while importing.

    .venv/bin/python bench/bench_upload_rss.py                 # 512 x 512 x 400 int16, 210 MB
    .venv/bin/python bench/bench_upload_rss.py --slices 800    # 420 MB
    .venv/bin/python bench/bench_upload_rss.py --no-import     # the web worker only (no Celery worker)
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
TARGET_MB = 300


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for {pid}")


def write_ct(path: Path, slices: int) -> Path:
    """An uncompressed NIfTI-1 CT, written slab by slab: air, a soft-tissue body, two bright femurs."""
    import nibabel as nib

    nx = ny = 512
    header = nib.Nifti1Header()
    header.set_data_shape((nx, ny, slices))
    header.set_data_dtype(np.int16)
    header.set_zooms((0.8, 0.8, 1.0))
    header.set_qform(np.diag([0.8, 0.8, 1.0, 1.0]), code=1)
    header.set_sform(np.diag([0.8, 0.8, 1.0, 1.0]), code=1)
    header["vox_offset"] = 352  # the 348-byte header, 4 bytes of (no) extensions, then the voxels
    y, x = np.mgrid[0:ny, 0:nx]
    body = ((x - 256) / 220.0) ** 2 + ((y - 256) / 160.0) ** 2 < 1
    bones = (((x - 170) ** 2 + (y - 256) ** 2) < 30**2) | (((x - 342) ** 2 + (y - 256) ** 2) < 30**2)
    plane = np.where(bones, 800, np.where(body, 40, -1000)).astype(np.int16).T  # NIfTI: x fastest
    rng = np.random.default_rng(0)
    with open(path, "wb") as out:
        out.write(header.binaryblock)
        out.write(b"\0" * (352 - len(header.binaryblock)))
        for _ in range(slices):
            out.write((plane + rng.integers(-10, 10, plane.shape, dtype=np.int16)).T.astype("<i2").tobytes())
    return path


class Platform:
    def __init__(self, folder: Path, with_worker: bool):
        self.folder = folder
        self.port = free_port()
        self.env = dict(
            os.environ,
            DJANGO_SETTINGS_MODULE="osteoscreen.settings.local",
            DJANGO_DEBUG="false",
            DATABASE_URL=f"sqlite:///{folder / 'db.sqlite3'}",
            MEDIA_ROOT=str(folder / "media"),
            PYTHONPATH=os.pathsep.join([str(ROOT / "platform"), str(ROOT)]),
        )
        sys.path[:0] = [str(ROOT / "platform"), str(ROOT)]
        from osteoscreen.embedded import start_embedded_broker, worker_command

        self.broker, self.env["CELERY_BROKER_URL"] = start_embedded_broker(folder, "bench-broker")
        self._manage("migrate", "--verbosity", "0")
        self.token = (
            self._manage(
                "shell",
                "-c",
                (
                    "from accounts.roles import Role; from accounts.services import user_create_with_role;"
                    "from rest_framework.authtoken.models import Token;"
                    "u = user_create_with_role(username='bench-coordinator', password='pw', role=Role.COORDINATOR);"
                    "print(Token.objects.create(user=u).key)"
                ),
            )
            .strip()
            .splitlines()[-1]
        )
        self.web = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "osteoscreen.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "1",
                "--timeout",
                "300",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=self.env,
        )
        self.worker = (
            subprocess.Popen(
                worker_command(queues="cpu", hostname="bench@%h"),
                cwd=ROOT,
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            if with_worker
            else None
        )
        self._wait_for_web()

    def _manage(self, *args: str) -> str:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout

    def _wait_for_web(self) -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                self.get("/api/cases/")
                return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError("the web server did not start")

    def web_worker_pid(self) -> int:
        children = Path(f"/proc/{self.web.pid}/task/{self.web.pid}/children").read_text().split()
        if len(children) != 1:
            raise RuntimeError(f"expected one gunicorn worker, found {children}")
        return int(children[0])

    def get(self, path: str) -> dict:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}", headers={"Authorization": f"Token {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def upload(self, path: Path) -> tuple[int, dict]:
        """Streams the file as multipart/form-data with curl, so the client holds none of it in memory."""
        run = subprocess.run(
            [
                "curl",
                "-sS",
                "-w",
                "\n%{http_code}",
                "-H",
                f"Authorization: Token {self.token}",
                "-F",
                f"file=@{path};type=application/octet-stream",
                "-F",
                "study_id=BENCH-1",
                f"http://127.0.0.1:{self.port}/api/cases/import/",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        body, code = run.stdout.rsplit("\n", 1)
        return int(code), json.loads(body)

    def stop(self) -> None:
        for process in (self.web, self.worker, self.broker):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--slices", type=int, default=400)
    parser.add_argument(
        "--no-import", action="store_true", help="no Celery worker: measure the web worker only"
    )
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="osteoscreen-bench-upload-"))
    platform = None
    try:
        ct = write_ct(folder / "bench-ct.nii", args.slices)
        size_mb = ct.stat().st_size / 1024**2
        platform = Platform(folder, with_worker=not args.no_import)
        pid = platform.web_worker_pid()
        before = peak_rss_mb(pid)
        started = time.perf_counter()
        code, body = platform.upload(ct)
        answered = time.perf_counter() - started
        after = peak_rss_mb(pid)
        print(
            f"upload: {ct.name}, 512 x 512 x {args.slices} int16, {size_mb:.0f} MB -> HTTP {code} in {answered:.1f} s"
        )
        if code >= 400:
            print(f"refused: {body}")
        print(
            f"web worker (gunicorn sync, pid {pid}): peak RSS {before:.0f} MB before the upload, "
            f"{after:.0f} MB after it (+{after - before:.0f} MB); target < {TARGET_MB} MB: "
            f"{'met' if after < TARGET_MB else 'NOT met'}"
        )
        if code == 202 and platform.worker is not None:
            job = wait_for_job(platform, body["job"]["id"])
            print(f"import job: {job['status']} {job.get('result') or job.get('error', '')[:200]}")
            worker_pids = (
                Path(f"/proc/{platform.worker.pid}/task/{platform.worker.pid}/children").read_text().split()
            )
            for worker_pid in worker_pids:
                print(
                    f"celery worker child (pid {worker_pid}): peak RSS {peak_rss_mb(int(worker_pid)):.0f} MB"
                )
    finally:
        if platform is not None:
            platform.stop()
        shutil.rmtree(folder, ignore_errors=True)


def wait_for_job(platform: Platform, job_id: int, seconds: float = 600) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job = platform.get(f"/api/jobs/{job_id}/")
        if job["status"] in ("succeeded", "failed", "cancelled"):
            return job
        time.sleep(1)
    raise RuntimeError(f"job {job_id} did not finish")


if __name__ == "__main__":
    main()
