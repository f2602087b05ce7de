"""Headless Chromium on the production viewer bundle (frontend/dist, no bench instrumentation): orientation
markers in every plane, every plane opening through a femur, and the plausibility warning on submitting a
VOI with an empty side. Waits on the page's own signals (#ov-root's data-state, the status line).

The CT is drawn here, not by the phantom: two femurs 90 mm either side of the midline in the lower part of
the scan, a spine on the midline, iliac wings above them and the scanner's table under it all, at 3 mm voxels.
"""

import os
import re

import numpy as np
import pytest

from reading_helpers import raw_upload

CHROMIUM = "/usr/bin/chromium"
SIZE = (128, 96, 40)  # x, y, z
SPACING = (3.0, 3.0, 3.0)
SOFT_TISSUE_HU, BONE_HU, AIR_HU = 40, 900, -1000
MIDLINE_X = 64
FEMUR_X = {"left": MIDLINE_X + 30, "right": MIDLINE_X - 30}  # LPS: the patient's left is +x
FEMUR_Y, FEMUR_RADIUS, FEMUR_TOP_Z = 48, 5, 27
# LPS index axes of the platform's canonical volumes: +x Left, +y Posterior, +z Superior.
LETTER_OF_INDEX_AXIS = [("R", "L"), ("A", "P"), ("I", "S")]

pytestmark = [pytest.mark.browser]


def hip_ct() -> np.ndarray:
    nx, ny, nz = SIZE
    volume = np.full((nz, ny, nx), AIR_HU, np.int16)
    z, y, x = np.mgrid[0:nz, 0:ny, 0:nx]
    volume[((x - MIDLINE_X) / 58) ** 2 + ((y - 50) / 40) ** 2 <= 1] = SOFT_TISSUE_HU
    for femur_x in FEMUR_X.values():
        volume[((x - femur_x) ** 2 + (y - FEMUR_Y) ** 2 <= FEMUR_RADIUS**2) & (z <= FEMUR_TOP_Z)] = BONE_HU
    volume[(abs(x - MIDLINE_X) <= 4) & (abs(y - 72) <= 5) & (z >= 14)] = BONE_HU  # spine and sacrum
    volume[(abs(abs(x - MIDLINE_X) - 32) <= 8) & (abs(y - 66) <= 2) & (z >= 30)] = BONE_HU  # iliac wings
    volume[:, 92:94, :] = BONE_HU  # the scanner's table, across the whole field of view
    return volume


@pytest.fixture
def hip_case(make_case, tmp_path):
    import SimpleITK as sitk

    from cases.services import case_import

    image = sitk.GetImageFromArray(hip_ct())
    image.SetSpacing(SPACING)
    image.SetOrigin((-192.0, -150.0, 900.0))
    path = tmp_path / "hips.nii.gz"
    sitk.WriteImage(image, str(path))
    return case_import(path=path, study_id="HIPS-1", sex="F", birth_year=1950).case


@pytest.fixture
def open_viewer(live_server, client, reader, make_assignment, hip_case, monkeypatch):
    """Opens the viewer on a new assignment of the hip case; `labels` (z, y, x) is saved first if given."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not os.path.exists(CHROMIUM):
        pytest.skip("no system Chromium")
    if not os.path.exists(os.path.join(os.path.dirname(__file__), "../../frontend/dist/viewer/viewer.js")):
        pytest.skip("the viewer is not built (cd frontend && npm ci && npm run build)")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    client.force_login(reader)
    playwright = sync_api.sync_playwright().start()
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
    )

    def open_page(labels=None):
        assignment = make_assignment(reader=reader, case=hip_case)
        if labels is not None:
            response = client.post(
                f"/api/assignments/{assignment.pk}/revisions/",
                {"base_revision": "", "labelmap": raw_upload(labels)},
            )
            assert response.status_code == 201, response.content
        context = browser.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True)
        context.add_cookies(
            [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
        )
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{live_server.url}/reading/assignments/{assignment.pk}/")
        page.wait_for_function(
            "['ready', 'error'].includes(document.getElementById('ov-root').dataset.state)", timeout=60000
        )
        assert page.locator("#ov-root").get_attribute("data-state") == "ready", page.locator(
            "#ov-status"
        ).text_content()
        assert errors == []
        return page, assignment

    yield open_page
    browser.close()
    playwright.stop()


def shown_index(page, view: str) -> int:
    """The volume index the view shows (its slice label reads 'n/N', 1-based)."""
    return int(page.locator(f'[data-slice="{view}"]').text_content().split("/")[0]) - 1


def index_under_mouse(page, view: str, dx: float, dy: float) -> tuple[int, int, int]:
    """The voxel (i, j, k) under the mouse (dx, dy) pixels from the view's centre, as the page's HU read-out
    reports it."""
    box = page.locator(f"#ov-vp-{view}").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2 + dx, box["y"] + box["height"] / 2 + dy)
    text = page.locator(f'[data-hu="{view}"]').text_content()
    return tuple(int(v) for v in re.search(r"\((\d+), (\d+), (\d+)\)", text).groups())


def test_each_plane_shows_the_patient_direction_at_every_edge_as_the_image_runs(open_viewer):
    page, _ = open_viewer()
    expected = {
        "axial": {"left": "R", "right": "L", "top": "A", "bottom": "P"},
        "coronal": {"left": "R", "right": "L", "top": "S", "bottom": "I"},
        "sagittal": {"left": "A", "right": "P", "top": "S", "bottom": "I"},
    }
    shown = {
        view: {edge: page.locator(f'[data-orientation="{view}-{edge}"]').text_content() for edge in edges}
        for view, edges in expected.items()
    }
    assert shown == expected
    # The letters agree with the voxels under them: moving toward an edge moves along the axis it names.
    steps = {"left": (-20, 0), "right": (20, 0), "top": (0, -20), "bottom": (0, 20)}
    for view, edges in expected.items():
        centre = index_under_mouse(page, view, 0, 0)
        for edge, letter in edges.items():
            moved = np.subtract(index_under_mouse(page, view, *steps[edge]), centre)
            axis = int(np.argmax(np.abs(moved)))
            assert LETTER_OF_INDEX_AXIS[axis][int(moved[axis] > 0)] == letter, (view, edge, moved)


def test_the_side_bar_at_1280_px_shows_each_key_on_one_line(open_viewer):
    page, _ = open_viewer()

    heights = page.evaluate(
        "Array.from(document.querySelectorAll('.ov-keys tr'), (r) => r.getBoundingClientRect().height)"
    )
    overflow = page.evaluate(
        "(() => { const p = document.querySelector('.ov-panel'); return p.scrollWidth - p.clientWidth; })()"
    )

    assert len(heights) > 10
    assert max(heights) < 1.5 * min(heights), f"a key wraps onto a second line: row heights {heights}"
    assert overflow <= 0


def test_every_plane_opens_through_a_femur_found_in_the_ct(open_viewer):
    page, _ = open_viewer()

    x, y, z = shown_index(page, "sagittal"), shown_index(page, "coronal"), shown_index(page, "axial")

    femur_xs = [range(fx - FEMUR_RADIUS, fx + FEMUR_RADIUS + 1) for fx in FEMUR_X.values()]
    assert any(x in xs for xs in femur_xs), f"the sagittal view opened at x={x}, through no femur"
    assert abs(y - FEMUR_Y) <= FEMUR_RADIUS, f"the coronal view opened at y={y}, through no femur"
    assert z <= FEMUR_TOP_Z, f"the axial view opened at z={z}, above the femurs"


def right_femur_only() -> np.ndarray:
    """A reader's VOI of the right femur (label 2) alone, centred on it, at slices 10-19."""
    nx, ny, nz = SIZE
    labels = np.zeros((nz, ny, nx), np.uint8)
    fx = FEMUR_X["right"]
    labels[10:20, FEMUR_Y - 4 : FEMUR_Y + 5, fx - 4 : fx + 5] = 2
    return labels


def test_the_views_open_through_the_femur_of_the_starting_labelmap(open_viewer):
    page, _ = open_viewer(right_femur_only())

    assert shown_index(page, "sagittal") == FEMUR_X["right"]
    assert shown_index(page, "coronal") == FEMUR_Y
    assert shown_index(page, "axial") in (14, 15)


def test_submitting_a_voi_with_an_empty_side_warns_and_the_reader_may_go_back(open_viewer):
    page, assignment = open_viewer(right_femur_only())

    page.click("#ov-submit")
    dialog = page.locator("#ov-submit-dialog")
    dialog.locator('[data-warning="empty-left"]').wait_for()
    warning = dialog.locator('[data-warning="empty-left"]').text_content()
    page.click("#ov-submit-back")

    assert warning == "The left femur VOI is empty."
    assert not dialog.is_visible()
    assert page.locator("#ov-status").get_attribute("data-state") != "submitted"
    assignment.refresh_from_db()
    assert assignment.status != "submitted"

    page.click("#ov-submit")
    page.click("#ov-submit-confirm")
    page.wait_for_function(
        "document.getElementById('ov-status').dataset.state === 'submitted'", timeout=20000
    )
    assignment.refresh_from_db()
    assert assignment.status == "submitted"


def test_approving_an_implausible_voi_on_the_review_page_asks_first(
    live_server, client, api_client, reader, senior, make_assignment, hip_case, monkeypatch
):
    sync_api = pytest.importorskip("playwright.sync_api")
    if not os.path.exists(CHROMIUM):
        pytest.skip("no system Chromium")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    assignment = make_assignment(reader=reader, case=hip_case)
    api_client.force_authenticate(reader)
    api_client.post(
        f"/api/assignments/{assignment.pk}/revisions/",
        {"base_revision": "", "labelmap": raw_upload(right_femur_only())},
        format="multipart",
    )
    api_client.post(f"/api/assignments/{assignment.pk}/submit/")
    client.force_login(senior)
    asked = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        context = browser.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True)
        context.add_cookies(
            [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
        )
        page = context.new_page()
        page.goto(f"{live_server.url}/reading/review/")
        approve = page.locator(f'tr[data-assignment="{assignment.pk}"] button[value="approve"]')

        page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
        approve.click()
        page.wait_for_timeout(
            300
        )  # a dismissed confirmation submits nothing; give a wrong submit time to land
        assignment.refresh_from_db()
        status_after_cancel = assignment.status

        page.once("dialog", lambda dialog: dialog.accept())
        with page.expect_navigation():
            approve.click()
        browser.close()

    assert "The left femur VOI is empty." in asked[0]
    assert status_after_cancel == "submitted"
    assignment.refresh_from_db()
    assert assignment.status == "approved"
