"""A tiny stand-in for the Django annotations backend, for developing and benchmarking the viewer.

It serves the real page template (annotations/templates/annotations/viewer.html, with the Django tags
replaced by their values), the built bundle from frontend/dist/viewer/, and the viewer contract's API
(/work/brief/viewer_contract.md) for one synthetic assignment: a hip CT of 512 x 512 x N int16 HU voxels.
Revisions live in memory, with the same 409 rule as the real server. It is not used in production.

    .venv/bin/python frontend/dev/devserver.py --port 8765 --slices 200
    open http://127.0.0.1:8765/reading/assignments/1/
"""

import argparse
import gzip
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "frontend" / "dist"
# The bench build (npm run build:bench) carries the timings bench/bench_viewer.py reads.
BENCH_DIST = ROOT / "frontend" / "dist-bench"
TEMPLATE = ROOT / "annotations" / "templates" / "annotations" / "viewer.html"
ASSIGNMENT_ID = 1
# Typical LDCT hip reconstruction: 0.78 mm in plane, 1.25 mm slices (the study's protocol range).
SPACING = (0.78125, 0.78125, 1.25)


def synthetic_hip_volume(*, nx: int, ny: int, nz: int) -> np.ndarray:
    """A crude pelvis-level CT in HU (z, y, x): air, a soft-tissue body, two bright femoral heads/necks."""
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:ny, 0:nx].astype(np.float32)
    body = ((x - nx / 2) / (nx * 0.42)) ** 2 + ((y - ny / 2) / (ny * 0.3)) ** 2 <= 1.0
    slice_template = np.where(body, 40, -1000).astype(np.int16)
    volume = np.repeat(slice_template[None], nz, axis=0)
    volume += rng.integers(-20, 20, size=(1, ny, nx), dtype=np.int16)
    z = np.arange(nz, dtype=np.float32)[:, None, None]
    for side_x in (nx * 0.68, nx * 0.32):  # patient's left (+x in LPS) first, then right
        head = ((x - side_x) ** 2 + (y - ny / 2) ** 2)[None] + (
            (z - nz * 0.55) * SPACING[2] / SPACING[0]
        ) ** 2
        volume[head <= (nx * 0.05) ** 2] = 450
        shaft = ((x - side_x * 1.0) ** 2 + (y - ny / 2) ** 2 <= (nx * 0.03) ** 2)[None] & (z < nz * 0.55)
        volume[np.broadcast_to(shaft, volume.shape)] = 900
    return volume


class Store:
    """In-memory revisions for the one dev assignment."""

    def __init__(self, *, volume_path: Path, size: tuple[int, int, int]):
        self.volume_path = volume_path
        self.size = size
        self.revisions: list[dict] = []
        self.labelmaps: dict[int, bytes] = {}
        self.lock = threading.Lock()


def build_store(slices: int) -> Store:
    size = (512, 512, slices)
    path = Path(f"/tmp/osteoscreen_dev_{size[0]}x{size[1]}x{size[2]}.raw")
    if not path.exists():
        path.write_bytes(synthetic_hip_volume(nx=size[0], ny=size[1], nz=size[2]).astype("<i2").tobytes())
    return Store(volume_path=path, size=size)


def render_template(config: dict) -> bytes:
    """The real viewer template with the few Django tags it uses replaced (no Django needed)."""
    text = TEMPLATE.read_text()
    blocks = dict(re.findall(r"{% block (\w+) %}(.*?){% endblock %}", text, flags=re.S))
    head = re.sub(r"{% static '([^']+)' %}", r"/static/\1", blocks.get("head", ""))
    body = blocks.get("content", "") + blocks.get("scripts", "")
    body = re.sub(r"{% if reviews or may_review %}.*?</div>\s*{% endif %}", "", body, flags=re.S)
    body = re.sub(r"{% if may_review %}<script.*?{% endif %}", "", body, flags=re.S)  # the reviewer's confirm
    body = re.sub(r"{% static '([^']+)' %}", r"/static/\1", body)
    script = f'<script id="viewer-config" type="application/json">{json.dumps(config)}</script>'
    body = re.sub(r'{{ viewer_config\|json_script:"viewer-config" }}', lambda _m: script, body)
    body = re.sub(r"{%.*?%}|{{.*?}}", "", body)
    page = f"<!doctype html><html><head><meta charset='utf-8'><title>Viewer (dev)</title>{head}</head><body>{body}</body></html>"
    return page.encode()


def make_handler(store: Store, save_delay: float, *, bench_build: bool = False):
    api = f"/api/assignments/{ASSIGNMENT_ID}"

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # Quiet: the bench reads its own timings.
            pass

        def send(self, status: int, body: bytes = b"", ctype: str = "application/json", headers=None):
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            if body and self.command != "HEAD":
                self.wfile.write(body)

        def send_json(self, status: int, payload) -> None:
            self.send(status, json.dumps(payload).encode())

        def do_GET(self):
            path, _, query = self.path.partition("?")
            if path == f"/reading/assignments/{ASSIGNMENT_ID}/":
                return self.send(200, render_template(self.config()), "text/html; charset=utf-8")
            if path.startswith("/static/"):
                return self.send_static(path.removeprefix("/static/"))
            if path == f"{api}/volume/":
                return self.send_json(200, self.volume_meta())
            if path == f"{api}/volume.raw":
                return self.send_volume()
            if path == f"{api}/labelmap/":
                return self.send_labelmap(query)
            if path == f"{api}/revisions/":
                return self.send_json(200, list(reversed(store.revisions)))
            return self.send(404, b"{}")

        def do_POST(self):
            path = self.path.partition("?")[0]
            length = int(self.headers.get("Content-Length", 0))
            body = self.rfile.read(length)
            if path == f"{api}/revisions/":
                return self.create_revision(body)
            match = re.fullmatch(rf"{api}/revisions/(\d+)/restore/", path)
            if match:
                return self.restore(int(match.group(1)))
            if path == f"{api}/submit/":
                ok = bool(store.revisions)
                return self.send_json(
                    200 if ok else 400, {"status": "submitted"} if ok else {"detail": "No revision."}
                )
            return self.send(404, b"{}")

        def config(self) -> dict:
            current = store.revisions[-1]["id"] if store.revisions else None
            return {
                "assignmentId": ASSIGNMENT_ID,
                "caseId": 1,
                "studyId": "SYN-DEV",
                "csrfToken": "dev",
                "volume": {
                    "size": list(store.size),
                    "spacing": list(SPACING),
                    "direction": [1, 0, 0, 0, 1, 0, 0, 0, 1],
                },
                "currentRevisionId": current,
                "readOnly": False,
                "urls": {
                    "volumeMeta": f"{api}/volume/",
                    "volumeRaw": f"{api}/volume.raw",
                    "labelmap": f"{api}/labelmap/",
                    "revisions": f"{api}/revisions/",
                    "submit": f"{api}/submit/",
                },
            }

        def volume_meta(self) -> dict:
            return {
                "size": list(store.size),
                "spacing": list(SPACING),
                "origin": [-200.0, -200.0, -120.0],
                "direction": [1, 0, 0, 0, 1, 0, 0, 0, 1],
                "dtype": "int16",
                "study_id": "SYN-DEV",
                "raw_url": f"{api}/volume.raw",
            }

        def send_static(self, rel: str):
            dist = BENCH_DIST if bench_build else DIST
            file = (dist / rel).resolve()
            if not file.is_file() or dist not in file.parents:
                return self.send(404, b"")
            ctype = {"js": "text/javascript", "css": "text/css", "wasm": "application/wasm"}.get(
                file.suffix[1:], "application/octet-stream"
            )
            return self.send(200, file.read_bytes(), ctype)

        def send_volume(self):
            size = store.volume_path.stat().st_size
            wanted = re.fullmatch(r"bytes=(\d+)-(\d+)", self.headers.get("Range", "").strip())
            if wanted and int(wanted.group(1)) <= int(wanted.group(2)) < size:
                start, end = int(wanted.group(1)), int(wanted.group(2))
                with store.volume_path.open("rb") as f:
                    f.seek(start)
                    data = f.read(end - start + 1)
                return self.send(
                    206, data, "application/octet-stream", {"Content-Range": f"bytes {start}-{end}/{size}"}
                )
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(size))
            self.end_headers()
            with store.volume_path.open("rb") as f:
                while chunk := f.read(1 << 20):
                    self.wfile.write(chunk)

        def send_labelmap(self, query: str):
            wanted = dict(p.split("=", 1) for p in query.split("&") if "=" in p).get("revision", "current")
            with store.lock:
                if wanted == "start" or (wanted == "current" and not store.revisions):
                    return self.send(204)
                rev_id = store.revisions[-1]["id"] if wanted == "current" else int(wanted)
                data = store.labelmaps.get(rev_id)
            if data is None:
                return self.send_json(404, {"detail": "No such revision."})
            return self.send(200, data, "application/octet-stream", {"X-Labelmap-Encoding": "gzip"})

        def create_revision(self, body: bytes):
            form = parse_multipart(self.headers.get("Content-Type", ""), body)
            time.sleep(save_delay)
            labels = np.frombuffer(gzip.decompress(form["labelmap"]), dtype=np.uint8)
            if "box_size" in form:  # the viewer's labelled box: expand it onto the grid
                (x, y, z), (w, h, d) = (
                    [int(v) for v in form[k].decode().split(",")] for k in ("box_offset", "box_size")
                )
                if labels.size != w * h * d:
                    return self.send_json(400, {"detail": "The box's bytes do not fill it."})
                full = np.zeros(store.size[::-1], np.uint8)
                full[z : z + d, y : y + h, x : x + w] = labels.reshape(d, h, w)
                labels = full.reshape(-1)
                form["labelmap"] = gzip.compress(labels.tobytes(), 1)
            if labels.size != int(np.prod(store.size)):
                return self.send_json(
                    400,
                    {
                        "detail": f"The labelmap has {labels.size} voxels, the case {int(np.prod(store.size))}."
                    },
                )
            if labels.max(initial=0) > 2:
                return self.send_json(400, {"detail": "Label values must be 0, 1 or 2."})
            base = form.get("base_revision", b"").decode()
            with store.lock:
                latest = store.revisions[-1] if store.revisions else None
                if (latest and base != str(latest["id"])) or (not latest and base):
                    return self.send_json(
                        409,
                        {
                            "detail": f"Your revision is based on revision {base or 'none'} but revision {latest['number'] if latest else '?'} was saved since. Nothing was overwritten."
                        },
                    )
                rev = self.add_revision(
                    form["labelmap"],
                    labels,
                    based_on=latest["id"] if latest else None,
                    edit_count=int(form.get("edit_count", b"0")),
                    seconds=float(form.get("seconds_spent", b"0")),
                )
            return self.send_json(201, rev)

        def add_revision(
            self, blob: bytes, labels: np.ndarray, *, based_on, edit_count=0, seconds=0.0, restored_from=None
        ):
            voxel_cm3 = SPACING[0] * SPACING[1] * SPACING[2] / 1000.0
            counts = np.bincount(labels, minlength=3)
            rev_id = len(store.revisions) + 101
            rev = {
                "id": rev_id,
                "number": len(store.revisions) + 1,
                "based_on": based_on,
                "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "edit_count": edit_count,
                "seconds_spent": seconds,
                "voxels": {"1": int(counts[1]), "2": int(counts[2])},
                "volume_cm3": {"1": counts[1] * voxel_cm3, "2": counts[2] * voxel_cm3},
                "restored_from": restored_from,
            }
            store.revisions.append(rev)
            store.labelmaps[rev_id] = blob
            return rev

        def restore(self, rev_id: int):
            with store.lock:
                blob = store.labelmaps.get(rev_id)
                if blob is None:
                    return self.send_json(404, {"detail": "No such revision."})
                labels = np.frombuffer(gzip.decompress(blob), dtype=np.uint8)
                rev = self.add_revision(
                    blob, labels, based_on=store.revisions[-1]["id"], restored_from=rev_id
                )
            return self.send_json(201, rev)

    return Handler


def parse_multipart(content_type: str, body: bytes) -> dict[str, bytes]:
    boundary = content_type.split("boundary=", 1)[1].strip('"').encode()
    fields = {}
    for part in body.split(b"--" + boundary)[1:-1]:
        head, _, value = part.strip(b"\r\n").partition(b"\r\n\r\n")
        name = re.search(rb'name="([^"]+)"', head).group(1).decode()
        fields[name] = value
    return fields


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--slices", type=int, default=200)
    parser.add_argument(
        "--bench-build", action="store_true", help="serve the viewer's bench build (frontend/dist-bench)"
    )
    parser.add_argument(
        "--save-delay", type=float, default=0.0, help="seconds added to each save (tests the status line)"
    )
    args = parser.parse_args()
    store = build_store(args.slices)
    server = ThreadingHTTPServer(
        ("127.0.0.1", args.port), make_handler(store, args.save_delay, bench_build=args.bench_build)
    )
    print(f"http://127.0.0.1:{args.port}/reading/assignments/{ASSIGNMENT_ID}/", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
