"""The allowed arrows between the parts (pyproject.toml, [tool.importlinter]) hold, and the contracts
would catch an edge that came back."""

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint_imports(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(root / "platform"), str(root)]))
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-logo", "--no-cache", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def contracts() -> list[dict]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]


def test_every_import_contract_is_kept():
    done = _lint_imports(ROOT)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]


def test_the_pure_core_contract_names_every_module_of_inference_beside_ml(contracts):
    # A new module under inference/ must be forbidden to inference.ml too, or the contract has a hole.
    forbidden = set(next(c for c in contracts if c["id"] == "ml-is-pure")["forbidden_modules"])
    modules = {
        f"inference.{p.stem}"
        for p in (ROOT / "inference").iterdir()
        if p.name != "ml" and ((p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").exists())
    }
    assert modules - forbidden == set()


@pytest.fixture(scope="module")
def copy_of_the_code(tmp_path_factory) -> Path:
    copy = tmp_path_factory.mktemp("layers") / "repo"
    skip = shutil.ignore_patterns("__pycache__", "static", "templates", "*.yaml", "*.md")
    for part in ("platform", "annotations", "inference"):
        shutil.copytree(ROOT / part, copy / part, ignore=skip)
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    return copy


@pytest.mark.parametrize(
    ("where", "offending_import", "contract"),
    [
        ("platform/cases/offending.py", "import annotations.selectors", "cases-below-features"),
        ("platform/cases/offending.py", "def later():\n    import inference.models", "cases-below-features"),
        (
            "annotations/offending.py",
            "from inference.models import SegmentationPrediction",
            "annotations-below-inference",
        ),
        ("inference/ml/offending.py", "import django.conf", "ml-is-pure"),
        ("inference/ml/offending.py", "from inference import selectors", "ml-is-pure"),
        ("platform/jobs/offending.py", "from accounts.roles import Role", "jobs-at-the-bottom"),
        ("platform/accounts/offending.py", "import cases.models", "accounts-at-the-bottom"),
        ("platform/cases/offending.py", "import annotations.models", "layers"),
    ],
)
def test_a_contract_breaks_when_a_forbidden_edge_comes_back(
    copy_of_the_code, where, offending_import, contract
):
    offending = copy_of_the_code / where
    offending.write_text(offending_import + "\n")
    try:
        done = _lint_imports(copy_of_the_code, "--contract", contract)
    finally:
        offending.unlink()

    assert done.returncode != 0 and "BROKEN" in done.stdout, done.stdout[-2000:]
