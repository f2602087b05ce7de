import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_a_web_worker_imports_every_view_while_it_boots_not_in_its_first_request():
    # A module only the URLconf imports: present after loading the WSGI application alone.
    code = "import sys; import osteoscreen.wsgi; print('inference.evaluation.views' in sys.modules)"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "platform"), str(ROOT)]))
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "True"
