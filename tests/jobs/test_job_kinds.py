"""Job kinds are declared once, in each app's kinds module, and production registers a handler for each
of them and for nothing else (no dead handler, no test-only one)."""

import json
import os
import subprocess
import sys
from pathlib import Path

from annotations import kinds as annotations_kinds
from cases import kinds as cases_kinds
from inference import kinds as inference_kinds

ROOT = Path(__file__).resolve().parents[2]
# Every `..._JOB` name of the apps' kinds modules: a kind declared there and never handled fails here too.
DECLARED = {
    value
    for module in (annotations_kinds, cases_kinds, inference_kinds)
    for name, value in vars(module).items()
    if name.endswith("_JOB")
}


def test_production_registers_a_handler_for_exactly_the_declared_kinds():
    # A fresh process with the production apps only: the test suite registers its own self-test kind.
    code = "import django; django.setup(); from jobs.registry import job_kinds; import json; print(json.dumps(job_kinds()))"
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join([str(ROOT / "platform"), str(ROOT)]),
        DJANGO_SETTINGS_MODULE="osteoscreen.settings.test",
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert set(json.loads(done.stdout.strip().splitlines()[-1])) == DECLARED
