"""CSV exports neutralise cells that a spreadsheet would read as a formula (OWASP's CSV injection rule)."""

import csv
import io

import pytest

from cases.spreadsheet import SpreadsheetSafeWriter, spreadsheet_safe


@pytest.mark.parametrize(
    "cell", ['=HYPERLINK("http://x","y")', "+1+2", "-2+3+cmd|' /C calc'!A0", "@SUM(A1)", "\t=1", "\r=1"]
)
def test_a_text_cell_that_starts_like_a_formula_gets_a_leading_quote(cell):
    assert spreadsheet_safe(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["T-0001", "SYN 12", "", "-1.25", "+0.5", "-3e-2", -1.5, 7, None])
def test_plain_text_and_numbers_stay_as_they_are(cell):
    assert spreadsheet_safe(cell) == cell


def test_the_writer_neutralises_every_cell_of_every_row():
    out = io.StringIO()
    SpreadsheetSafeWriter(out).writerows([["study_id", "t"], ["=1+1", -2.7], ["@x", "-1.0"]])
    assert list(csv.reader(io.StringIO(out.getvalue()))) == [
        ["study_id", "t"],
        ["'=1+1", "-2.7"],
        ["'@x", "-1.0"],
    ]
