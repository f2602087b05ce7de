"""voi is the pure core every layer may use: importing it loads no Django and no app."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_importing_voi_loads_no_django_and_no_app():
    code = (
        "import sys; import voi.labels, voi.grid, voi.metrics; "
        "loaded = {m.split('.')[0] for m in sys.modules}; "
        "print(sorted(loaded & {'django', 'rest_framework', 'celery', 'accounts', 'cases', 'jobs', "
        "'annotations', 'inference', 'osteoscreen', 'phantom'}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(ROOT / "platform")},
    )
    assert result.stdout.strip() == "[]"
