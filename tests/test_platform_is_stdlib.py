import platform
import sysconfig
from pathlib import Path


def test_import_platform_resolves_to_the_standard_library():
    stdlib = Path(sysconfig.get_paths()["stdlib"]).resolve()
    assert Path(platform.__file__).resolve().parent == stdlib
    assert callable(platform.python_version)


def test_the_platform_folder_is_not_a_package():
    root = Path(__file__).resolve().parents[1]
    assert not (root / "platform" / "__init__.py").exists()
