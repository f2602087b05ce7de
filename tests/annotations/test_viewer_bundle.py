"""The production viewer bundle (frontend/dist/viewer) carries no benchmark instrumentation and no dead code.

Reads the built files: run `cd frontend && npm run build` (and `npm run build:bench` for the second test)
first; the tests skip with a notice where a build is missing.
"""

from pathlib import Path

import pytest

FRONTEND = Path(__file__).resolve().parents[2] / "frontend"
PRODUCTION = FRONTEND / "dist" / "viewer"
BENCH = FRONTEND / "dist-bench" / "viewer"
# What only the bench build may hold: the page globals the bench and the browser tests read (they grow for
# the page's life), the recorders that fill them, and the labelmap encoder nothing calls any more.
INSTRUMENTATION = [
    "__viewer",
    "watchStrokeLatency",
    "installBenchProbe",
    "recordStrokeEcho",
    "exposeViewer",
    "gzipLabelmap",
]


def built_javascript(folder: Path) -> str:
    files = sorted(folder.glob("*.js"))
    if not files:
        pytest.skip(f"{folder} is not built (cd frontend && npm ci && npm run build && npm run build:bench)")
    return "\n".join(file.read_text(errors="replace") for file in files)


def test_the_production_viewer_sets_no_instrumentation_globals_and_keeps_no_recorders():
    bundle = built_javascript(PRODUCTION)
    found = [name for name in INSTRUMENTATION if name in bundle]
    assert found == [], f"the production viewer bundle carries bench instrumentation: {found}"


def test_the_bench_build_still_carries_what_the_bench_reads():
    # Minified code renames functions, so only the globals' names are looked for: they prove the bench
    # build is what its readers (bench/bench_viewer.py, the browser tests) expect, and that the names the
    # production check looks for are the real ones.
    bundle = built_javascript(BENCH)
    for name in ["__viewerTimings", "__viewerStrokes", "__viewerEchoes", "__viewerError", "__viewer="]:
        assert name in bundle.replace(" ", ""), name
