"""Speed of the annotation viewer in headless Chromium against the real Django server (issue 4's targets).

For each case size (512 x 512 x N, default N = 200 and 300) it measures, per page load:
  - the page-load phases: HTML received, bundle running, Cornerstone ready, viewports ready, first slice's
    bytes here, FIRST SLICE DRAWN (target <= 1000 ms after navigation start), whole CT drawn, ready to paint;
  - a brush stroke in the axial view (target: no stroke takes longer than a frame to show). For each press
    and move, the time from the event to the end of the frame that carries its disc (the 2-D echo,
    strokeEcho.js), split into the browser's wait before our handler and our part; and, against a log of
    every frame the page began, whether the disc was ON SCREEN AT THE NEXT REFRESH: in the first frame that
    began after the event, that frame done within one frame of its start (a busy main thread delays a
    frame or skips it; either shows); and the page's own part of that: SHOWN IN THE FRAME THAT HANDED IT TO
    THE PAGE (an event that reaches the browser just before a frame begins can miss that frame on its way
    to the page, on a bare page too). And the frames' cadence during the stroke, and the WebGL labelmap
    frame after it;
  - the same strokes on a bare page first (CONTROL: a canvas and a pointer handler, nothing else), so the
    part of event-to-visible that is the browser's own (its wait for the next frame, its press handling)
    is measured on this machine, in the same run, with the same input;
  - a SAVE ROUND TRIP as the page sees it (target <= 300 ms): encode the labelmap, POST, 201; with the
    server's own time (Server-Timing) and the bytes sent.
It also times the server's save steps in this process on a femur-sized labelmap of each case.

The server is the platform itself: a temporary SQLite database and MEDIA_ROOT, the CT made by the phantom
generator (platform/phantom, cached under /tmp) and imported through cases.services.case_import, a reader
with an assignment created through annotations.services, served by gunicorn as `run_platform` does.

    .venv/bin/python bench/bench_viewer.py                       # 200 and 300 slices, 1 warm-up + 3 loads each
    .venv/bin/python bench/bench_viewer.py --slices 200 --runs 5 --screenshot /tmp/viewer.png
    .venv/bin/python bench/bench_viewer.py --server dev          # frontend/dev/devserver.py instead
    .venv/bin/python bench/bench_viewer.py --no-control          # without the bare-page strokes

Needs the viewer's bench build (cd frontend && npm ci && npm run build:bench: the production viewer plus the
timings and stroke recorders this script reads; the server is told to serve it with VIEWER_BENCH_BUILD=true)
and /usr/bin/chromium.
"""

import argparse
import itertools
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
FRAME_MS = 1000 / 60
APPROACH_MOVES = 5
PHANTOM_SEED = 4
PHANTOM_CACHE = Path(tempfile.gettempdir()) / "osteoscreen-bench-viewer"
PAGE_PHASES = [
    ("htmlReceived", "HTML received"),
    ("scriptStart", "bundle running"),
    ("cornerstoneReady", "cornerstone ready"),
    ("previewBytes", "preview: slice bytes"),
    ("viewportsReady", "viewports ready"),
    ("firstSliceBytes", "first slice's bytes"),
    ("firstSlice", "FIRST SLICE DRAWN"),
    ("cornerstoneFirstSlice", "  Cornerstone's first frame"),
    ("volumeLoaded", "whole CT drawn"),
    ("ready", "ready to paint"),
]
SAVE_PHASES = [
    ("lastSaveMs", "SAVE ROUND TRIP"),
    ("lastSaveEncodeMs", "  browser encode"),
    ("lastSaveServerMs", "  server (Server-Timing)"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, proc: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"The server exited ({proc.returncode}).")
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"The server did not answer {url}.")


# --- the real platform ---------------------------------------------------------------------------------


class DjangoServer:
    """The platform on a temporary database and media folder, with one reader and one case per size."""

    def __init__(self, slices: list[int]):
        self.folder = Path(tempfile.mkdtemp(prefix="osteoscreen-bench-viewer-"))
        os.environ.update(
            {
                "DJANGO_SETTINGS_MODULE": "osteoscreen.settings.local",
                "DJANGO_DEBUG": "false",
                "DATABASE_URL": f"sqlite:///{self.folder / 'db.sqlite3'}",
                "MEDIA_ROOT": str(self.folder / "media"),
                "VIEWER_BENCH_BUILD": "true",
            }
        )
        for path in (str(ROOT / "platform"), str(ROOT)):
            if path not in sys.path:
                sys.path.insert(0, path)
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        self.pages, self.assignments = {}, {}
        reader, cookie = self._reader()
        self.cookie_value = cookie
        for n in slices:
            self.assignments[n] = self._assignment(reader=reader, slices=n)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "platform"), str(ROOT)]))
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "osteoscreen.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "2",
                "--threads",
                "4",
                "--timeout",
                "120",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
        )
        wait_for(f"{self.url}/api/health/", self.proc)

    def _reader(self):
        from django.test import Client

        from accounts.roles import Role
        from accounts.services import user_create_with_role

        reader = user_create_with_role(username="bench-reader", password="pw", role=Role.READER)
        self.coordinator = user_create_with_role(
            username="bench-coordinator", password="pw", role=Role.COORDINATOR
        )
        client = Client()
        client.force_login(reader)
        return reader, client.cookies["sessionid"].value

    def _assignment(self, *, reader, slices: int):
        from annotations import selectors
        from annotations.services import assignment_create
        from cases.models import Cohort
        from cases.services import case_import

        path = phantom_ct(slices)
        case = case_import(path=path, study_id=f"BENCH-{slices}", sex="F", birth_year=1950).case
        cohort = Cohort.objects.get_or_create(name="Viewer bench")[0]
        cohort.cases.add(case)
        assignment = assignment_create(case=case, reader=reader, cohort=cohort, created_by=self.coordinator)
        # The raw sidecar is written once per case on first use; every later page load only opens it.
        selectors.case_raw_volume_path(case)
        return assignment

    def page_url(self, slices: int) -> str:
        return f"{self.url}/reading/assignments/{self.assignments[slices].pk}/"

    def cookies(self) -> list[dict]:
        return [{"name": "sessionid", "value": self.cookie_value, "url": self.url}]

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


def phantom_ct(slices: int) -> Path:
    """A 512 x 512 x `slices` phantom hip CT as NIfTI, generated once and cached."""
    PHANTOM_CACHE.mkdir(exist_ok=True)
    path = PHANTOM_CACHE / f"phantom-seed{PHANTOM_SEED}-512x512x{slices}.nii.gz"
    if not path.exists():
        import SimpleITK as sitk

        from phantom.case import CaseOptions, generate_case

        started = time.perf_counter()
        case = generate_case(seed=PHANTOM_SEED, index=0, options=CaseOptions(matrix=512, slices=slices))
        partial = path.with_suffix(".partial.nii.gz")
        sitk.WriteImage(case.image, str(partial), True)
        partial.replace(path)
        print(f"(generated the phantom CT 512x512x{slices} in {time.perf_counter() - started:.1f} s)")
    return path


# --- the dev stand-in ----------------------------------------------------------------------------------


class DevServer:
    """frontend/dev/devserver.py: the same template and contract, revisions in memory, no Django."""

    def __init__(self, slices: list[int]):
        self.procs, self.urls = {}, {}
        for n in slices:
            port = free_port()
            proc = subprocess.Popen(
                [
                    sys.executable,
                    str(ROOT / "frontend" / "dev" / "devserver.py"),
                    "--port",
                    str(port),
                    "--slices",
                    str(n),
                    "--bench-build",
                ],
                stdout=subprocess.PIPE,
                text=True,
            )
            self.urls[n] = proc.stdout.readline().strip()
            self.procs[n] = proc
            wait_for(self.urls[n], proc)

    def page_url(self, slices: int) -> str:
        return self.urls[slices]

    def cookies(self) -> list[dict]:
        return []

    def close(self) -> None:
        for proc in self.procs.values():
            proc.terminate()
            proc.wait()


# --- the page ------------------------------------------------------------------------------------------


# Started before a stroke: the start time of every frame the page begins (requestAnimationFrame's argument),
# so each press or move can be placed between frames: shown in the first frame that began after it, or later.
FRAME_LOG_START = """() => {
    window.__benchFrames = [];
    window.__benchFramesOn = true;
    const tick = (t) => { window.__benchFrames.push(t); if (window.__benchFramesOn) requestAnimationFrame(tick); };
    requestAnimationFrame(tick);
}"""
FRAME_LOG_STOP = "() => { window.__benchFramesOn = false; return window.__benchFrames.slice(); }"

# The control: the same stroke on a bare page (one canvas, a pointer handler that draws a disc and records
# it the way strokeEcho.js does). Whatever it shows over a frame is the browser's own input-to-frame time
# on this machine, not the viewer's.
BARE_PAGE_URL = "http://bare-page.invalid/"
BARE_PAGE = """<!doctype html><html><body style="margin:0;background:#222">
<div id="ov-vp-axial" style="position:absolute;left:20px;top:60px;width:600px;height:600px;background:#000">
<canvas id="echo" width="600" height="600" style="position:absolute;inset:0;opacity:0.5"></canvas></div>
<script>
window.__viewerEchoes = [];
const context = document.getElementById('echo').getContext('2d');
function afterNextFrame(callback) {
  requestAnimationFrame((frameTime) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => callback(frameTime);
    channel.port2.postMessage(null);
  });
}
function onPointer(e) {
  if ((e.buttons & 1) !== 1) return;
  const dispatched = performance.now();
  context.fillStyle = 'rgb(230, 90, 60)';
  context.beginPath();
  context.arc(e.offsetX, e.offsetY, 16, 0, 2 * Math.PI);
  context.fill();
  const drawn = performance.now();
  afterNextFrame((frameAt) => window.__viewerEchoes.push({
    dispatchedMs: dispatched - e.timeStamp, drawnMs: drawn - e.timeStamp,
    visibleMs: performance.now() - e.timeStamp, eventAt: e.timeStamp, frameAt,
  }));
}
const element = document.getElementById('ov-vp-axial');
element.addEventListener('pointerdown', onPointer);
element.addEventListener('pointermove', onPointer);
</script></body></html>"""


def bare_page_load(context, *, stroke_steps: int, seed: int) -> dict:
    page = context.new_page()
    try:
        page.route(BARE_PAGE_URL, lambda route: route.fulfill(body=BARE_PAGE, content_type="text/html"))
        page.goto(BARE_PAGE_URL)
        page.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")
        page.evaluate(FRAME_LOG_START)
        brush_stroke(page, steps=stroke_steps, seed=seed)
        page.wait_for_timeout(100)
        frames = page.evaluate(FRAME_LOG_STOP)
        return {"echoes": page.evaluate("window.__viewerEchoes.slice()"), "frames": frames}
    finally:
        page.close()


def brush_stroke(page, *, steps: int, screenshot: str | None = None, seed: int = 0) -> None:
    """A stroke across the left femur region of the axial view, one pointer move per step, each step after
    the page's next frame; with `screenshot`, a PNG halfway through (the stroke's 2-D echo, before the
    release renders the labelmap). The pointer comes to the start point as a hand brings it, over a few
    moves, and rests a frame before the press (a press in the same millisecond as the pointer's arrival
    measures the hover's handling, not the stroke).

    A mouse reports on its own clock, not the screen's: each press and move of the stroke is sent a random
    0-16.7 ms after the page's last frame began (seeded, so the viewer and the bare-page control get the same
    delays). Sent always at the same point of the frame, every event would wait for the next frame alike and
    hide that part of the browser's input-to-frame time."""
    rng = random.Random(seed)
    next_frame = "() => new Promise(requestAnimationFrame)"

    def random_phase():
        page.evaluate(next_frame)
        time.sleep(rng.uniform(0, FRAME_MS / 1000))

    box = page.locator("#ov-vp-axial").bounding_box()
    x0, y = box["x"] + box["width"] * 0.35, box["y"] + box["height"] * 0.5
    for i in range(APPROACH_MOVES, -1, -1):
        page.mouse.move(x0 - 4 * i, y - 2 * i)
        page.evaluate(next_frame)
    random_phase()
    page.mouse.down()
    for i in range(1, steps + 1):
        random_phase()
        page.mouse.move(x0 + i * 3, y + (i % 5))
        if screenshot and i == steps // 2:
            page.screenshot(path=screenshot)
    page.evaluate(next_frame)
    page.mouse.up()


def one_load(context, url: str, *, stroke_steps: int, screenshot: str | None, seed: int) -> dict:
    page = context.new_page()
    try:
        page.goto(url)
        page.wait_for_function("window.__viewerTimings?.ready || window.__viewerError", timeout=120000)
        error = page.evaluate("window.__viewerError || null")
        if error:
            raise RuntimeError(error)
        page.evaluate(
            "window.__viewerStrokes.length = 0; if (window.__viewerEchoes) window.__viewerEchoes.length = 0"
        )
        mid_stroke = str(Path(screenshot).with_suffix("")) + "-mid-stroke.png" if screenshot else None
        page.evaluate(FRAME_LOG_START)
        brush_stroke(page, steps=stroke_steps, screenshot=mid_stroke, seed=seed)
        page.wait_for_function(
            "document.getElementById('ov-status').dataset.state === 'unsaved'", timeout=10000
        )
        page.wait_for_function("!window.__viewer.editor.armed", timeout=10000)
        strokes = [
            m if isinstance(m, dict) else {"frameMs": m}
            for m in page.evaluate("window.__viewerStrokes.slice()")
        ]
        echoes = page.evaluate("(window.__viewerEchoes || []).slice()")
        frames = page.evaluate(FRAME_LOG_STOP)
        saves = page.evaluate("window.__viewerTimings.saveCount || 0")
        page.keyboard.press("Control+s")
        page.wait_for_function(f"(window.__viewerTimings.saveCount || 0) > {saves}", timeout=20000)
        timings = page.evaluate("""() => {
            const t = {...window.__viewerTimings};
            const nav = performance.getEntriesByType('navigation')[0];
            if (nav) t.htmlReceived = nav.responseEnd;
            t.lastSaveEncodeMs ??= t.lastSaveCompressMs;  // the name before the box upload
            return t;
        }""")
        if screenshot:
            page.screenshot(path=screenshot)
        return {"timings": timings, "strokes": strokes, "echoes": echoes, "frames": frames}
    finally:
        page.close()


def median_line(label: str, values: list[float], unit: str = "ms") -> str:
    values = [v for v in values if v is not None]
    if not values:
        return f"  {label:26s}      n/a"
    return (
        f"  {label:26s} {statistics.median(values):8.0f} {unit}   [{', '.join(f'{v:.0f}' for v in values)}]"
    )


def summarise(slices: int, loads: list[dict], server: str) -> None:
    def col(name):
        return [load["timings"].get(name) for load in loads]

    print(
        f"\n512 x 512 x {slices} on the {server} server ({len(loads)} page loads; median [each], "
        "ms after navigation start)"
    )
    for name, label in PAGE_PHASES:
        print(median_line(label, col(name)))
    for name, label in SAVE_PHASES:
        print(median_line(label, col(name)))
    sent = [v / 1024 for v in col("lastSaveBytes") if v is not None]
    if sent:
        print(
            f"  {'  bytes sent':26s} {statistics.median(sent):8.1f} KiB  [{', '.join(f'{v:.1f}' for v in sent)}]"
        )
    moves = [m for load in loads for m in load["strokes"]]
    if moves:

        def stat(key):
            values = [m[key] for m in moves if m.get(key) is not None]
            if not values:
                return "n/a"
            return f"median {statistics.median(values):.1f}, max {max(values):.1f} ms"

        over = sum(m["frameMs"] > FRAME_MS for m in moves)
        views = statistics.median(m.get("viewsRendered", 0) for m in moves)
        # With the echo, the painted view's WebGL render waits for the pointer to rest or the release, so
        # a stroke usually has one WebGL frame, and its "event" is the stroke's first move.
        print(
            f"  event to WebGL frame: {len(moves)} labelmap frames during strokes; {stat('frameMs')} "
            f"({over} over one frame, {FRAME_MS:.1f} ms)"
        )
        print(
            f"         labelmap write {stat('writeMs')}; render {stat('renderMs')}; "
            f"viewports rendered per frame: median {views:.0f}"
        )
    echo_summary(loads)


def frames_missed(echo: dict, frames: list[float], *, since: str = "event") -> int:
    """How many frames began after the event (or after the page got it: since="dispatch") and before the
    frame that showed its disc (0: the first one)."""
    start = echo["eventAt"] + (echo["dispatchedMs"] if since == "dispatch" else 0.0)
    return sum(start < f < echo["frameAt"] for f in frames)


def stroke_frame_intervals(load: dict) -> list[float]:
    """Intervals between the frames that began from the stroke's first event to the frame showing its last."""
    echoes = [e for e in load.get("echoes", []) if "frameAt" in e]
    if not echoes:
        return []
    first, last = echoes[0]["eventAt"], echoes[-1]["frameAt"]
    frames = [f for f in load.get("frames", []) if first <= f <= last]
    return [b - a for a, b in itertools.pairwise(frames)]


def echo_summary(loads: list[dict]) -> None:
    """Event to stroke visible, in ms and in frames, over every press and move of the loads' strokes."""
    echoes = [e for load in loads for e in load.get("echoes", [])]
    if not echoes:
        return

    def echo_stat(key):
        values = [e[key] for e in echoes if e.get(key) is not None]
        return f"median {statistics.median(values):.1f}, max {max(values):.1f} ms" if values else "n/a"

    over = sum(e["visibleMs"] > FRAME_MS for e in echoes)
    late = sum(e["visibleMs"] - e.get("dispatchedMs", 0) > FRAME_MS for e in echoes)
    in_frame = [e["visibleMs"] - e["dispatchedMs"] for e in echoes if "dispatchedMs" in e]
    print(
        f"  EVENT TO STROKE VISIBLE (2-D echo), {len(echoes)} presses/moves: {echo_stat('visibleMs')} "
        f"({over} over {FRAME_MS:.1f} ms)"
    )
    print(
        f"         event to dispatch {echo_stat('dispatchedMs')}; to echo drawn {echo_stat('drawnMs')}; "
        f"dispatch to frame done median {statistics.median(in_frame) if in_frame else float('nan'):.1f} ms "
        f"({late} over one frame)"
    )
    timed = [
        (e, load["frames"])
        for load in loads
        for e in load.get("echoes", [])
        if "frameAt" in e and load.get("frames")
    ]
    if timed:
        missed = [frames_missed(e, frames) for e, frames in timed]
        # The frame's own time: from its start to the end of its update; over a frame, it was on screen a
        # refresh later than it began, even if no other frame began in between (a busy main thread delays
        # the frame instead of skipping it).
        frame_work = [e["eventAt"] + e["visibleMs"] - e["frameAt"] for e, _ in timed]
        on_time = sum(m == 0 and w <= FRAME_MS for m, w in zip(missed, frame_work, strict=True))
        gaps = [gap for load in loads for gap in stroke_frame_intervals(load)]
        long_gaps = sum(g > 1.5 * FRAME_MS for g in gaps)
        print(
            f"  ON SCREEN AT THE NEXT REFRESH: {on_time} of {len(missed)} presses/moves (in the first frame that "
            f"began after the event: {missed.count(0)}, a frame late: {missed.count(1)}, more: "
            f"{sum(m > 1 for m in missed)}; that frame's start to its end median "
            f"{statistics.median(frame_work):.1f}, max {max(frame_work):.1f} ms)"
        )
        # The page's own part: from the moment Chrome hands it the event. An event that reaches the browser a
        # moment before a frame begins can miss that frame on its way to the page, a bare page too.
        handed = [frames_missed(e, frames, since="dispatch") for e, frames in timed]
        page_on_time = sum(m == 0 and w <= FRAME_MS for m, w in zip(handed, frame_work, strict=True))
        print(
            f"  SHOWN IN THE FRAME THAT HANDED IT TO THE PAGE: {page_on_time} of {len(handed)} presses/moves "
            "(in that frame or the next to begin, done within a frame of its start)"
        )
        print(
            f"         frame intervals during strokes median {statistics.median(gaps):.1f}, max {max(gaps):.1f} ms, "
            f"{long_gaps} of {len(gaps)} over 1.5 frames"
        )
    for number, load in enumerate(loads, 1):
        sequence = ", ".join(f"{e['visibleMs']:.0f}" for e in load.get("echoes", []))
        print(f"         load {number}, event to visible per press/move in stroke order: {sequence}")


# --- the server's save steps, in this process ----------------------------------------------------------


def server_save_steps(slices: int, repeats: int = 3) -> None:
    """Times the save path's server steps on a femur-sized labelmap (two 60 x 90 x 100 voxel blocks)."""
    import gzip

    import numpy as np

    from annotations import labelmaps

    grid = labelmaps.Grid.of(
        size=(512, 512, slices),
        spacing=(0.8, 0.8, 1.0),
        origin=(0, 0, 0),
        direction=(1, 0, 0, 0, 1, 0, 0, 0, 1),
    )
    labels = np.zeros(grid.shape_zyx, np.uint8)
    z0 = slices // 2 - 50
    labels[z0 : z0 + 100, 200:290, 130:190] = 1
    labels[z0 : z0 + 100, 200:290, 320:380] = 2
    raw_gz = gzip.compress(labels.tobytes(), 1)
    steps = {
        "raw gzip upload: check": lambda: labelmaps.labelmap_from_upload(
            content=raw_gz, filename="l.raw.gz", grid=grid
        )
    }
    if hasattr(labelmaps, "LabelBox"):
        box = labelmaps.LabelBox.around(labels)
        crop_gz = gzip.compress(np.ascontiguousarray(labels[box.slices()]).tobytes(), 1)
        steps["box upload: check"] = lambda: labelmaps.labelmap_from_upload(
            content=crop_gz, filename="l.box.gz", grid=grid, box=box
        )
    if hasattr(labelmaps, "LabelBox"):
        steps["voxel counts (in the box)"] = lambda: labelmaps.label_voxel_counts(labels, box=box)
    else:
        steps["voxel counts"] = lambda: labelmaps.label_voxel_counts(labels)
    if hasattr(labelmaps, "encode_labelmap"):
        steps["encode NIfTI + viewer copy"] = lambda: labelmaps.encode_labelmap(labels, grid=grid)
    else:
        steps["encode NIfTI"] = lambda: labelmaps.labelmap_nifti_bytes(labels, grid=grid)
        steps["encode viewer copy"] = lambda: labelmaps.raw_gzip_bytes(labels)
    print(f"  server save steps in-process (512x512x{slices}, best of {repeats}):")
    for name, step in steps.items():
        best = float("inf")
        for _ in range(repeats):
            started = time.perf_counter()
            step()
            best = min(best, time.perf_counter() - started)
        print(f"    {name:30s} {best * 1000:7.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--slices", type=int, nargs="+", default=[200, 300])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--stroke-steps", type=int, default=30)
    parser.add_argument(
        "--warmup",
        type=int,
        default=1,
        help="page loads per case before the measured ones (a server that has served before)",
    )
    parser.add_argument(
        "--no-control",
        dest="control",
        action="store_false",
        help="skip the bare-page control stroke (the browser's own input-to-frame time)",
    )
    parser.add_argument("--server", choices=["django", "dev"], default="django")
    parser.add_argument(
        "--screenshot",
        default=None,
        help="PNG of the viewer after the last save (and NAME-mid-stroke.png halfway through the stroke)",
    )
    parser.add_argument("--query", default="", help="appended to the page URL, e.g. '?labelmapImageMapper'")
    args = parser.parse_args()
    if not (ROOT / "frontend" / "dist-bench" / "viewer" / "viewer.js").exists():
        sys.exit("Build the viewer's bench build first: cd frontend && npm ci && npm run build:bench")
    server = DjangoServer(args.slices) if args.server == "django" else DevServer(args.slices)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            if args.control:
                bare = []
                for run in range(args.runs):
                    context = browser.new_context(viewport={"width": 1400, "height": 850})
                    bare.append(bare_page_load(context, stroke_steps=args.stroke_steps, seed=run))
                    context.close()
                print(
                    f"\nCONTROL: the same strokes on a bare page (a canvas and a pointer handler, {args.runs} loads): "
                    "the browser's own input-to-frame time here"
                )
                echo_summary(bare)
            for slices in args.slices:
                loads = []
                for run in range(args.warmup + args.runs):
                    # A fresh context per load: nothing cached from the previous one, as for a new reader.
                    # Playwright's string predicates run through eval, which the site's CSP forbids.
                    context = browser.new_context(viewport={"width": 1400, "height": 850}, bypass_csp=True)
                    context.add_cookies(server.cookies())
                    load = one_load(
                        context,
                        server.page_url(slices) + args.query,
                        stroke_steps=args.stroke_steps,
                        screenshot=args.screenshot,
                        seed=max(0, run - args.warmup),
                    )
                    context.close()
                    if run >= args.warmup:
                        loads.append(load)
                summarise(slices, loads, args.server)
                if args.server == "django":
                    server_save_steps(slices)
            browser.close()
    finally:
        server.close()


if __name__ == "__main__":
    main()
