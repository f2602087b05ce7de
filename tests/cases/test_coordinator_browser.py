"""Headless Chromium: a coordinator does the study's set-up through the pages alone: drops two NIfTI
files and a DICOM zip on the import page (and chooses a DICOM folder), sees a bad QCT CSV refused row by row, records an exclusion,
creates a cohort, freezes a split after its preview and assigns one case, with no console error and no
failed request on the way."""

import base64
import datetime as dt
import zipfile

import pytest
from browser_helpers import PageWatch, launch, screenshot, session_cookie, sync_api_or_skip

from annotations.models import Assignment
from cases.models import Case, Cohort, Exclusion, QCTMeasurement, Split

from dicom_helpers import write_ct_series
from volumes import write_test_volume

BAD_QCT = (
    "study_id,qct_date,femoral_neck_bmd,femoral_neck_t,total_hip_bmd,total_hip_t\n"
    "SYN-0101,2024-01-02,0.71,-1.5,0.80,-1.2\n"
    "SYN-0102,2024-02-30,0.70,-1.1,0.81,-1.0\n"
    "SYN-0101,2024-01-02,abc,-12,0.80,-1.2\n"
    "NOBODY,2024-01-02,0.70,-1.1,0.81,-1.0\n"
)


def drop_files(page, selector: str, paths) -> None:
    """A real drop event carrying the files, as a desktop drag and drop delivers it."""
    files = [{"name": p.name, "b64": base64.b64encode(p.read_bytes()).decode()} for p in paths]
    transfer = page.evaluate_handle(
        """(files) => {
        const transfer = new DataTransfer();
        for (const f of files) {
            const bytes = Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0));
            transfer.items.add(new File([bytes], f.name));
        }
        return transfer;
    }""",
        files,
    )
    page.dispatch_event(selector, "drop", {"dataTransfer": transfer})


@pytest.fixture
def upload_files(tmp_path):
    nifti = [write_test_volume(tmp_path / f"SYN-010{i}.nii.gz", seed=i) for i in (1, 2)]
    series = write_ct_series(tmp_path / "series", seed=3)
    archive = tmp_path / "series.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for dcm in sorted(series.iterdir()):
            zipped.write(dcm, dcm.name)
    return [*nifti, archive]


@pytest.fixture
def dicom_folder(tmp_path):
    return write_ct_series(tmp_path / "folder-series", seed=4)


@pytest.fixture
def earlier_cases(make_case):
    """Cases already in the platform, so the new cohort has enough included cases for a split."""
    return [
        make_case(
            study_id=f"SYN-00{i:02d}",
            size=(16, 16, 16),
            exam_datetime=dt.datetime(2023, 1 + i, 1, tzinfo=dt.UTC),
        )
        for i in range(1, 6)
    ]


@pytest.mark.browser
def test_a_coordinator_sets_up_the_study_through_the_pages(
    live_server, client, coordinator, reader, upload_files, dicom_folder, earlier_cases, tmp_path, monkeypatch
):
    sync_api = sync_api_or_skip()
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    bad_csv = tmp_path / "qct.csv"
    bad_csv.write_text(BAD_QCT)
    with sync_api.sync_playwright() as playwright:
        browser = launch(playwright)
        context = browser.new_context(viewport={"width": 1280, "height": 860}, bypass_csp=True)
        context.add_cookies([session_cookie(client, coordinator, live_server)])
        page = context.new_page()
        watch = PageWatch(page)

        page.goto(f"{live_server.url}/cases/import/")
        drop_files(page, ".dropzone", upload_files)
        page.wait_for_function(
            "document.querySelectorAll('#ct-uploads tr[data-state=imported]').length === 3", timeout=30000
        )
        results = page.locator("#ct-uploads td[data-field=result]").all_text_contents()
        assert results[0] == "imported as SYN-0101" and results[1] == "imported as SYN-0102", results
        # A DICOM folder, chosen as a folder: the page zips it and imports it as one series.
        page.set_input_files("#ct-folder", str(dicom_folder))
        page.wait_for_function(
            "document.querySelectorAll('#ct-uploads tr[data-state=imported]').length === 4", timeout=30000
        )
        assert page.locator("#ct-uploads tr").nth(3).get_attribute("data-file") == "folder-series.zip"
        page.set_input_files("#qct-file", str(bad_csv))
        page.click("#qct-check")
        page.wait_for_selector("#qct-problems tbody tr")
        refused = [
            tuple(row.locator("td").all_text_contents()[:2])
            for row in page.locator("#qct-problems tbody tr").all()
        ]
        assert refused == [
            ("3", "qct_date"),
            ("4", "femoral_neck_bmd"),
            ("4", "femoral_neck_t"),
            ("5", "study_id"),
        ]
        assert page.locator("#qct-store").is_disabled()
        screenshot(page, "coordinator-import")

        imported = Case.objects.get(patient__study_id="SYN-0101")
        page.goto(f"{live_server.url}/cases/{imported.pk}/")
        page.select_option("select[name=reason]", "hip_replacement")
        page.fill("input[name=note]", "left total hip replacement")
        page.click("text=Record exclusion")
        page.wait_for_selector("text=Recorded the exclusion: hip replacement.")
        screenshot(page, "coordinator-case")

        page.goto(f"{live_server.url}/cases/cohorts/")
        page.fill("[data-testid=cohort-create] input[name=name]", "Browser study")
        page.click("text=Create cohort")
        page.wait_for_selector("text=Created the cohort Browser study with 9 cases.")
        screenshot(page, "coordinator-cohorts")

        page.fill("[data-testid=split-form] input[name=seed]", "11")
        page.fill("[data-testid=split-form] input[name=validation_fraction]", "0.4")
        page.click("text=Preview")
        preview = page.locator("[data-testid=split-preview]")
        preview.wait_for()
        counts = [int(c) for c in preview.locator("tbody tr td:nth-child(2)").all_text_contents()]
        assert sum(counts) == 8  # nine cases, one excluded
        screenshot(page, "coordinator-split-preview")
        page.click("text=Freeze this split")
        page.wait_for_selector("text=Froze split v1")

        page.goto(f"{live_server.url}/reading/cohorts/")
        page.fill("input[name=case]", "syn-0102")
        page.click("text=Find the case")
        page.select_option("[data-testid=assign-one] select[name=reader]", str(reader.pk))
        page.click("[data-testid=assign-one] >> text=Assign reading")
        page.wait_for_selector("text=Assigned 1 case to reader1.")
        screenshot(page, "coordinator-assign")
        browser.close()

    assert watch.problems == []
    assert Case.objects.count() == 9 and Case.objects.filter(source="dicom").count() == 2
    assert not QCTMeasurement.objects.exists()
    assert Exclusion.objects.get().note == "left total hip replacement"
    split = Split.objects.get(cohort=Cohort.objects.get(name="Browser study"))
    assert split.seed == 11 and split.memberships.count() == 8
    assert Assignment.objects.get().case.patient.study_id == "SYN-0102"
