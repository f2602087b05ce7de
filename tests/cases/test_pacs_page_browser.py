"""Headless Chromium: the coordinator searches the test Orthanc on the PACS page, picks the study, imports
it, follows the job to its end and opens the new case, which names the series read and those passed over."""

import pydicom
import pytest
from browser_helpers import launch, session_cookie, sync_api_or_skip
from pydicom.uid import generate_uid

from dicom_helpers import write_ct_series, write_dose_report, write_localizer

pytest_plugins = ["orthanc_fixtures"]


@pytest.mark.browser
def test_the_coordinator_imports_a_study_from_the_pacs_page(
    live_server, client, coordinator, orthanc, tmp_path, monkeypatch
):
    sync_api = sync_api_or_skip()
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    study = generate_uid()
    write_localizer(tmp_path / "study", study_uid=study)
    write_ct_series(tmp_path / "study" / "axial", study_uid=study, size=(16, 16, 16))
    write_dose_report(tmp_path / "study" / "dose", study_uid=study, dlp_mgycm=321.0)
    orthanc.client().store_instances(
        [pydicom.dcmread(p) for p in (tmp_path / "study").rglob("*") if p.is_file()]
    )
    cookie = session_cookie(client, coordinator, live_server)
    with sync_api.sync_playwright() as playwright:
        browser = launch(playwright)
        context = browser.new_context()
        context.add_cookies([cookie])
        page = context.new_page()
        page.goto(f"{live_server.url}/cases/")
        page.get_by_role("link", name="PACS").click()
        page.fill("#id_date_from", "2024-03-01")
        page.fill("#id_date_to", "2024-03-31")
        page.fill("#id_description", "abdomen")
        page.get_by_role("button", name="Search").click()
        row = page.locator("#pacs-import tbody tr")
        assert row.count() == 1 and "CT ABDOMEN" in row.inner_text()
        assert study not in page.content() and "pacs-secret" not in page.content()
        page.get_by_label("pick study 1").check()
        page.get_by_role("button", name="Import the picked studies").click()
        page.wait_for_url("**/jobs/*/")
        assert "succeeded" in page.content()
        page.goto(f"{live_server.url}/cases/")
        page.locator("table.data tbody a").first.click()
        card = page.locator("section.import-report")
        assert "Read series 2" in card.inner_text() and "localizer" in card.inner_text()
        assert "321" in page.locator("dl.meta").inner_text()  # the DLP from the dose report
        # The import's automatic QC: this small synthetic series holds no femur, so each side is flagged
        # not assessable with its reason, for the coordinator to confirm as an exclusion or dismiss.
        qc = page.locator("section.case-qc").inner_text()
        assert "not assessable" in qc and "femur" in qc, qc
        assert page.get_by_role("button", name="Dismiss").count() >= 1
        browser.close()
