import pytest
from django.core.management import CommandError, call_command


def test_generate_cohort_writes_the_importers_layout(tmp_path):
    call_command(
        "generate_cohort",
        "--cases",
        "2",
        "--seed",
        "4",
        "--out",
        str(tmp_path),
        "--matrix",
        "48",
        "--region",
        "hips",
        "--preview",
    )
    for name in (
        "manifest.csv",
        "qct.csv",
        "images/SYN-0002.nii.gz",
        "masks/SYN-0001_reader2.nii.gz",
        "preview/SYN-0001.png",
    ):
        assert (tmp_path / name).exists(), name


def test_generate_cohort_reports_a_bad_class_mix(tmp_path):
    with pytest.raises(CommandError):
        call_command("generate_cohort", "--cases", "1", "--out", str(tmp_path), "--class-mix", "0.5,0.5")
