"""Speed of the annotation viewer in headless Chromium (issue 4's targets).

Measures, for a 512 x 512 x N case served on localhost:
  - first slice: ms from navigation start until the axial view has drawn its first slice (target <= 1000)
  - volume: ms until the whole CT is on screen; ready: ms until the reader can paint
  - brush: ms from each pointer move of a brush stroke to the frame that shows it (target <= one frame,
    16.7 ms at 60 Hz), and the main-thread work of each stroke event
  - save: ms of a save round trip as the page sees it: gzip the labelmap, POST, 201 (target <= 300)

By default it serves the case with frontend/dev/devserver.py (same contract and template as the
Django backend, revisions in memory), so it needs only a built bundle (npm run build in frontend/).

    .venv/bin/python bench/bench_viewer.py                 # 200 and 300 slices, 3 page loads each
    .venv/bin/python bench/bench_viewer.py --slices 200 --runs 5 --screenshot /tmp/viewer.png
"""

import argparse
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
FRAME_MS = 1000 / 60


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_devserver(slices: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, str(ROOT / "frontend" / "dev" / "devserver.py"), "--port", str(port),
                             "--slices", str(slices)], stdout=subprocess.PIPE, text=True)
    url = proc.stdout.readline().strip()
    for _ in range(600):
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return proc, url
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("The dev server did not start.")


def brush_stroke(page, *, steps: int) -> None:
    box = page.locator("#ov-vp-axial").bounding_box()
    x0, y = box["x"] + box["width"] * 0.35, box["y"] + box["height"] * 0.5
    page.mouse.move(x0, y)
    page.mouse.down()
    for i in range(1, steps + 1):
        page.mouse.move(x0 + i * 3, y + (i % 5))
        page.evaluate("() => new Promise(requestAnimationFrame)")
    page.mouse.up()


def one_load(page, url: str, *, stroke_steps: int, screenshot: str | None) -> dict:
    page.goto(url)
    page.wait_for_function("window.__viewerTimings?.ready || window.__viewerError", timeout=60000)
    error = page.evaluate("window.__viewerError || null")
    if error:
        raise RuntimeError(error)
    timings = page.evaluate("window.__viewerTimings")
    page.evaluate("window.__viewerStrokes.length = 0")
    brush_stroke(page, steps=stroke_steps)
    page.wait_for_function("document.getElementById('ov-status').dataset.state === 'unsaved'", timeout=10000)
    strokes = page.evaluate("window.__viewerStrokes.slice()")
    saves = page.evaluate("window.__viewerTimings.saveCount || 0")
    page.keyboard.press("Control+s")
    page.wait_for_function(f"(window.__viewerTimings.saveCount || 0) > {saves}", timeout=10000)
    timings = page.evaluate("window.__viewerTimings")
    if screenshot:
        page.screenshot(path=screenshot)
    return {"timings": timings, "strokes": strokes}


def summarise(slices: int, loads: list[dict]) -> None:
    def col(name):
        return [load["timings"].get(name, float("nan")) for load in loads]

    strokes = [ms for load in loads for ms in load["strokes"]]
    print(f"\n512 x 512 x {slices} ({len(loads)} page loads; median [each])")
    for name, label in [("scriptStart", "bundle running"), ("firstSlice", "first slice drawn"),
                        ("volumeLoaded", "whole CT drawn"), ("ready", "ready to paint"),
                        ("lastSaveMs", "save round trip"), ("lastSaveCompressMs", "  of which gzip")]:
        values = col(name)
        print(f"  {label:20s} {statistics.median(values):8.0f} ms   [{', '.join(f'{v:.0f}' for v in values)}]")
    print(f"  {'saved labelmap':20s} {statistics.median(col('lastSaveBytes')) / 1024:8.0f} KiB gzip")
    if strokes:
        over = sum(ms > FRAME_MS for ms in strokes)
        print(f"  brush frames         {len(strokes)} drawn: median {statistics.median(strokes):.1f} ms, "
              f"max {max(strokes):.1f} ms, {over} over one frame ({FRAME_MS:.1f} ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--slices", type=int, nargs="+", default=[200, 300])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--stroke-steps", type=int, default=30)
    parser.add_argument("--screenshot", default=None, help="PNG of the viewer after the last save")
    parser.add_argument("--query", default="", help="appended to the page URL, e.g. '?labelmapImageMapper'")
    args = parser.parse_args()
    if not (ROOT / "frontend" / "dist" / "viewer" / "viewer.js").exists():
        sys.exit("Build the viewer first: cd frontend && npm ci && npm run build")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for slices in args.slices:
            server, url = start_devserver(slices)
            try:
                loads = []
                for _ in range(args.runs):
                    page = browser.new_page(viewport={"width": 1400, "height": 850})
                    loads.append(one_load(page, url + args.query, stroke_steps=args.stroke_steps, screenshot=args.screenshot))
                    page.close()
                summarise(slices, loads)
            finally:
                server.terminate()
                server.wait()
        browser.close()


if __name__ == "__main__":
    main()
