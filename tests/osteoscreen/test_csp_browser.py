"""Headless Chromium under the site's Content-Security-Policy: the viewer, the dashboard, the study report,
a model version's training chart, a predicted-mask overlay and the API docs all work, and the browser
reports no CSP violation on any of them.

Needs the built viewer (cd frontend && npm ci && npm run build) and a system Chromium."""

import importlib.util
import os
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
BUNDLE = ROOT / "frontend" / "dist" / "viewer" / "viewer.js"
COLLECT_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation',
  (e) => window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'} (${e.sourceFile}:${e.lineNumber})`));
"""


# The dashboard's synthetic study (45 predicted cases, two classifier versions) from its own tests.
def _dashboard_tests():
    spec = importlib.util.spec_from_file_location(
        "dashboard_study", ROOT / "tests" / "inference" / "test_dashboard.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


study = _dashboard_tests().study

pytestmark = pytest.mark.browser


@pytest.fixture
def browser_page(live_server, monkeypatch):
    sync_api = pytest.importorskip("playwright.sync_api")
    if not os.path.exists(CHROMIUM):
        pytest.skip("no system Chromium")
    if not BUNDLE.exists():
        pytest.skip("the viewer is not built (cd frontend && npm ci && npm run build)")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
        )

        def open_as(user, client):
            client.force_login(user)
            context = browser.new_context(viewport={"width": 1280, "height": 860})
            context.add_cookies(
                [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
            )
            context.add_init_script(COLLECT_VIOLATIONS)
            page = context.new_page()
            page.console_errors = []
            page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))
            return page

        yield open_as
        browser.close()


def visit(page, url: str, *, ready: str) -> None:
    response = page.goto(url)
    assert response.status == 200, url
    policy = response.headers.get("content-security-policy", "")
    assert "script-src 'self' 'nonce-" in policy or ("script-src 'self'" in policy), policy
    # `page_failed()` lets a page that shows its fatal error end the wait at once.
    page.wait_for_function(
        f"() => {{ const page_failed = () => document.getElementById('ov-root')?.dataset.state === 'error'; "
        f"return {ready}; }}",
        timeout=60000,
    )
    page.wait_for_load_state("networkidle")
    violations = page.evaluate("window.__cspViolations")
    csp_errors = [text for text in page.console_errors if "Content Security Policy" in text]
    assert violations == [] and csp_errors == [], (url, violations, csp_errors)


def test_the_viewer_works_under_the_csp(browser_page, live_server, client, reader, coordinator, make_case):
    from annotations.services import assignment_create
    from cases.models import Cohort

    case = make_case(size=(48, 40, 16))
    cohort = Cohort.objects.create(name="CSP")
    cohort.cases.add(case)
    assignment = assignment_create(case=case, reader=reader, cohort=cohort, created_by=coordinator)
    page = browser_page(reader, client)
    visit(
        page,
        f"{live_server.url}/reading/assignments/{assignment.pk}/",
        ready="performance.getEntriesByName('viewer:ready').length > 0 || page_failed()",
    )
    # The production bundle sets no globals: its start-up milestones are User Timing marks.
    assert page.evaluate("document.getElementById('ov-root').dataset.state") == "ready", page.console_errors


def test_the_dashboard_report_and_charts_work_under_the_csp(browser_page, live_server, client, pi, study):
    from inference.models import ModelVersion, SegmentationPrediction

    page = browser_page(pi, client)
    visit(
        page, f"{live_server.url}/models/dashboard/", ready="document.querySelector('svg, canvas') !== null"
    )
    visit(
        page, f"{live_server.url}/models/dashboard/report/", ready="document.getElementById('print-report')"
    )
    segmentation = ModelVersion.objects.get(family="segmentation")
    ModelVersion.objects.filter(pk=segmentation.pk).update(
        metrics={
            "history": [
                {"epoch": 1, "loss": 0.9, "val_dice": 0.4},
                {"epoch": 2, "loss": 0.5, "val_dice": 0.7},
            ]
        }
    )
    visit(
        page,
        f"{live_server.url}/models/versions/{segmentation.pk}/",
        ready="document.querySelector('.training-chart svg path') !== null",
    )
    assert SegmentationPrediction.objects.exists()


def test_the_overlay_slider_works_under_the_csp(browser_page, live_server, client, pi, make_case, settings):
    from django.core.files.base import ContentFile

    from annotations.labelmaps import labelmap_nifti_bytes
    from annotations.selectors import case_grid
    from inference.models import ModelVersion, SegmentationPrediction

    case = make_case(size=(24, 20, 16))
    labels = np.zeros((16, 20, 24), np.uint8)
    labels[4:12, 5:9, 5:9] = 1
    version = ModelVersion.objects.create(family="segmentation", number=1, status="active")
    prediction = SegmentationPrediction(case=case, model_version=version, mask_sha256="ef" * 32)
    prediction.mask.save(
        "mask.nii.gz", ContentFile(labelmap_nifti_bytes(labels, grid=case_grid(case))), save=True
    )
    page = browser_page(pi, client)
    visit(
        page,
        f"{live_server.url}/models/segmentations/{prediction.pk}/overlay/",
        ready="document.getElementById('overlay-image').complete",
    )
    page.locator("#overlay-slice").fill("3")
    page.wait_for_function("() => document.getElementById('overlay-index').textContent === '3'")
    assert page.evaluate("window.__cspViolations") == []


def test_the_api_docs_work_under_the_csp(browser_page, live_server, client, pi):
    page = browser_page(pi, client)
    visit(page, f"{live_server.url}/api/docs/", ready="document.querySelector('.swagger-ui .info') !== null")
