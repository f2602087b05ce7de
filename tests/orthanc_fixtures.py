"""A real Orthanc PACS with its DICOMweb plugin, started once per test session on a free port, with a
temporary configuration and storage folder, HTTP basic auth on. Tests that use it skip with a notice
where Orthanc is not installed (`make test` as root installs Debian's orthanc and orthanc-dicomweb).

Use it from a test module with `pytest_plugins = ["orthanc_fixtures"]`.
"""

import json
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

ORTHANC = shutil.which("Orthanc") or "/usr/sbin/Orthanc"
# Where Debian's orthanc-dicomweb puts its plugin (`dpkg -L orthanc-dicomweb`).
DICOMWEB_PLUGINS = (
    "/usr/share/orthanc/plugins/libOrthancDicomWeb.so",
    "/usr/lib/orthanc/libOrthancDicomWeb.so",
)
USERNAME, PASSWORD = "pacs-user", "pacs-secret-0451"
START_SECONDS = 30


@dataclass
class OrthancServer:
    url: str  # the REST root
    dicomweb: str  # the DICOMweb root

    def get(self, path: str):
        response = requests.get(self.url + path, auth=(USERNAME, PASSWORD), timeout=30)
        response.raise_for_status()
        return response.json()

    def clear(self) -> None:
        for study in self.get("/studies"):
            requests.delete(
                f"{self.url}/studies/{study}", auth=(USERNAME, PASSWORD), timeout=30
            ).raise_for_status()

    def client(self):
        """A DICOMweb client of this Orthanc, for a test to put studies in and read results back."""
        from dicomweb_client.api import DICOMwebClient

        session = requests.Session()
        session.auth = (USERNAME, PASSWORD)
        return DICOMwebClient(url=self.dicomweb, session=session)

    def endpoint(self, name: str = "test-pacs") -> dict:
        return {"name": name, "url": self.dicomweb, "username": USERNAME, "password": PASSWORD}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _plugin() -> str | None:
    return next((p for p in DICOMWEB_PLUGINS if Path(p).exists()), None)


def _wait_until_up(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"Orthanc exited at start:\n{log.read_text()[-2000:]}")
        try:
            if requests.get(url + "/system", auth=(USERNAME, PASSWORD), timeout=2).ok:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"Orthanc did not answer within {START_SECONDS} s:\n{log.read_text()[-2000:]}")


@pytest.fixture(scope="session")
def orthanc_server(tmp_path_factory):
    plugin = _plugin()
    if not Path(ORTHANC).exists() or plugin is None:
        pytest.skip(
            "NOTICE: Orthanc with its DICOMweb plugin is not installed (apt-get install orthanc "
            "orthanc-dicomweb; `make test` as root does it): PACS tests skipped"
        )
    folder = tmp_path_factory.mktemp("orthanc")
    port = _free_port()
    config = {
        "Name": "osteoscreen-test",
        "StorageDirectory": str(folder / "storage"),
        "IndexDirectory": str(folder / "index"),
        "HttpPort": port,
        "DicomServerEnabled": False,
        "RemoteAccessAllowed": False,
        "AuthenticationEnabled": True,
        "RegisteredUsers": {USERNAME: PASSWORD},
        "Plugins": [plugin],
        "DicomWeb": {"Enable": True, "Root": "/dicom-web/"},
    }
    (folder / "orthanc.json").write_text(json.dumps(config))
    log = folder / "orthanc.log"
    with open(log, "w") as out:
        process = subprocess.Popen(
            [ORTHANC, str(folder / "orthanc.json")], stdout=out, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, process, log)
        yield OrthancServer(url=url, dicomweb=f"{url}/dicom-web")
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
def orthanc(orthanc_server, settings):
    """The session's Orthanc, emptied, configured as the platform's one PACS."""
    orthanc_server.clear()
    settings.PACS_ENDPOINTS = [orthanc_server.endpoint()]
    return orthanc_server
