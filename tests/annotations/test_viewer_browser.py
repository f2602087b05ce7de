"""Headless Chromium: a reader paints with the brush in the axial view, saves, reloads, and the voxels
are there, in the slice the viewer showed, through the API.

Needs the viewer's bench build (cd frontend && npm ci && npm run build:bench: it adds the timings and the
page handle this test reads) and a system Chromium; waits on the page's own signals
(window.__viewerTimings, the status line), never on sleeps.
"""

import gzip
import os

import numpy as np
import pytest

CHROMIUM = "/usr/bin/chromium"
CASE_SIZE = (
    48,
    40,
    16,
)  # x, y, z: small (16 slices, the fewest a CT may have), but big enough for an 8 mm brush on 1.5 mm voxels


def wait_until_ready(page) -> None:
    page.wait_for_function("window.__viewerTimings?.ready || window.__viewerError", timeout=60000)
    assert page.evaluate("window.__viewerError || null") is None


def paint_stroke_left_of_centre(page) -> None:
    """Drags the brush across the axial view, entirely on the screen's left half."""
    box = page.locator("#ov-vp-axial").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(cx - box["width"] * 0.3, cy)
    page.mouse.down()
    for step in range(1, 9):
        page.mouse.move(cx - box["width"] * 0.3 + step * 3, cy + step)
    page.mouse.up()


def saved_labels(api_client, reader, assignment, case) -> np.ndarray:
    api_client.force_authenticate(reader)
    response = api_client.get(f"/api/assignments/{assignment.pk}/labelmap/?revision=current")
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    nx, ny, nz = case.size
    return np.frombuffer(gzip.decompress(body), np.uint8).reshape(nz, ny, nx)


@pytest.mark.browser
def test_a_reader_paints_saves_and_finds_the_voxels_after_a_reload(
    live_server, client, api_client, reader, make_assignment, monkeypatch, viewer_bench_build
):
    sync_api = pytest.importorskip("playwright.sync_api")
    if not os.path.exists(CHROMIUM):
        pytest.skip("no system Chromium")
    # Playwright's sync API runs an event loop in this thread; the ORM calls happen outside it.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    assignment = make_assignment(reader=reader, size=CASE_SIZE)
    case = assignment.case
    client.force_login(reader)
    cookie = {"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}
    url = f"{live_server.url}/reading/assignments/{assignment.pk}/"
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        # Playwright's string predicates (wait_for_function) run through eval, which the site's CSP forbids;
        # tests/osteoscreen/test_csp_browser.py checks the viewer under the CSP itself.
        context = browser.new_context(viewport={"width": 1280, "height": 860}, bypass_csp=True)
        context.add_cookies([cookie])
        page = context.new_page()
        page.goto(url)
        wait_until_ready(page)
        shown_slice = int(page.locator('[data-slice="axial"]').text_content().split("/")[0]) - 1

        paint_stroke_left_of_centre(page)
        page.wait_for_function("document.getElementById('ov-status').dataset.state === 'unsaved'")
        page.wait_for_function("!window.__viewer.editor.armed")  # the stroke is committed as one edit
        page.keyboard.press("Control+s")
        page.wait_for_function(
            "document.getElementById('ov-status').dataset.state === 'saved'", timeout=20000
        )
        painted_in_page = page.evaluate("window.__viewer.counter.total(1)")

        page.reload()
        wait_until_ready(page)
        after_reload = page.evaluate("window.__viewer.counter.total(1)")
        browser.close()

    labels = saved_labels(api_client, reader, assignment, case)
    painted = np.argwhere(labels == 1)
    assert painted_in_page > 0
    assert len(painted) == painted_in_page == after_reload
    assert set(painted[:, 0]) == {shown_slice}, "a circle brush in the axial view paints only the slice shown"
    # Radiological convention: the patient's right (low x in LPS) is on the screen's left.
    assert painted[:, 2].max() < CASE_SIZE[0] / 2
    assert not (labels == 2).any()
