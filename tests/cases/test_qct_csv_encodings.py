"""A QCT CSV saved by a spreadsheet imports in every encoding a spreadsheet writes, and binary junk is a
clean refusal (400 from the API, one error line and a non-zero exit from the command), storing nothing."""

import subprocess
import sys
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from cases.models import QCTMeasurement

ROOT = Path(__file__).resolve().parents[2]
HEADER = [
    "study_id",
    "qct_date",
    "femoral_neck_bmd",
    "femoral_neck_t",
    "total_hip_bmd",
    "total_hip_t",
    "operator",
]
ROWS = [
    ["P-1", "2024-03-04", "120", "-0.5", "110", "-1.4", "Dr Müller"],
    ["P-2", "2024-05-02", "60", "-2.9", "75", "-2.0", "Dr Ærø"],
]
JUNK = bytes(range(256)) * 40


def table(delimiter: str = ",") -> str:
    return "\r\n".join(delimiter.join(row) for row in [HEADER, *ROWS]) + "\r\n"


SAVED_AS = {
    "UTF-8": table().encode("utf-8"),
    "UTF-8 with BOM": table().encode("utf-8-sig"),
    "Latin-1": table().encode("latin-1"),
    "Windows-1252 with semicolons": table(";").encode("cp1252"),
    "UTF-16 with BOM, tab-separated (Excel 'Unicode text')": table("\t").encode("utf-16"),
    "UTF-16 big-endian with BOM": b"\xfe\xff" + table().encode("utf-16-be"),
}


@pytest.fixture
def two_cases(make_case):
    import datetime as dt

    return [
        make_case(study_id=f"P-{i}", exam_datetime=dt.datetime(2024, 2 * i + 1, 1, 9, tzinfo=dt.UTC))
        for i in (1, 2)
    ]


def post(api_client, user, content: bytes):
    api_client.force_authenticate(user)
    return api_client.post(
        "/api/qct/import/", {"file": SimpleUploadedFile("qct.csv", content)}, format="multipart"
    )


@pytest.mark.parametrize("encoding", SAVED_AS)
def test_the_api_imports_a_sheet_saved_in(api_client, coordinator, two_cases, encoding):
    response = post(api_client, coordinator, SAVED_AS[encoding])
    assert response.status_code == 201, response.json()
    assert list(QCTMeasurement.objects.order_by("total_hip_t").values_list("total_hip_t", flat=True)) == [
        -2.0,
        -1.4,
    ]


@pytest.mark.parametrize("encoding", SAVED_AS)
def test_the_command_imports_a_sheet_saved_in(two_cases, tmp_path, encoding):
    csv_path = tmp_path / "qct.csv"
    csv_path.write_bytes(SAVED_AS[encoding])
    call_command("import_cases", str(two_cases[0].volume.path), "--study-id", "P-1", "--qct", str(csv_path))
    assert QCTMeasurement.objects.count() == 2


def test_the_api_refuses_binary_junk_cleanly(api_client, coordinator, two_cases):
    response = post(api_client, coordinator, JUNK)
    assert response.status_code == 400
    assert "not a text" in response.json()["detail"]
    assert QCTMeasurement.objects.count() == 0


def test_the_command_refuses_binary_junk_with_one_line_and_no_traceback(tmp_path):
    (tmp_path / "case.nii.gz").write_bytes(b"")
    junk = tmp_path / "binary.csv"
    junk.write_bytes(JUNK)
    run = subprocess.run(
        [sys.executable, "manage.py", "import_cases", str(tmp_path), "--qct", str(junk)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={
            "PATH": "/usr/bin:/bin",
            "DJANGO_SETTINGS_MODULE": "osteoscreen.settings.test",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "MEDIA_ROOT": str(tmp_path / "media"),
        },
    )
    assert run.returncode != 0
    assert "Traceback" not in run.stderr and "UnicodeDecodeError" not in run.stderr
    assert run.stderr.strip().count("\n") == 0 and "not a text table" in run.stderr


MANIFEST = [
    "study_id",
    "sex",
    "birth_year",
    "exam_datetime",
    "scanner_model",
    "manufacturer",
    "kvp",
    "slice_thickness_mm",
    "dlp_mgycm",
    "exclusion_reason",
    "image",
]


def cohort_folder(tmp_path, *, birth_year: str, encoding: str, delimiter: str) -> Path:
    from volumes import write_test_volume

    folder = tmp_path / "cohort"
    (folder / "images").mkdir(parents=True)
    write_test_volume(folder / "images" / "C-1.nii.gz")
    row = [
        "C-1",
        "F",
        birth_year,
        "2024-01-02T09:00:00",
        "Scanner",
        "Société Médicale",
        "120",
        "1.0",
        "",
        "",
        "images/C-1.nii.gz",
    ]
    text = "\r\n".join(delimiter.join(r) for r in (MANIFEST, row)) + "\r\n"
    (folder / "manifest.csv").write_bytes(text.encode(encoding))
    return folder


def test_a_cohort_manifest_saved_by_a_spreadsheet_imports(db, tmp_path):
    call_command(
        "import_cases", str(cohort_folder(tmp_path, birth_year="1950", encoding="cp1252", delimiter=";"))
    )
    from cases.models import Case

    assert Case.objects.get().manufacturer == "Société Médicale"


def test_a_manifest_with_a_bad_birth_year_is_one_clean_error(db, tmp_path):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="row 2.*birth_year"):
        call_command(
            "import_cases",
            str(cohort_folder(tmp_path, birth_year="19\u00b250", encoding="utf-16", delimiter="\t")),
        )
