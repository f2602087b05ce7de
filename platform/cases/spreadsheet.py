"""CSV files people open in a spreadsheet: a cell that starts like a formula is neutralised.

OWASP's rule against CSV injection: a text cell beginning with =, +, -, @ (or a tab or carriage return,
which some spreadsheets skip before reading a formula) gets a leading single quote, so that a study id
such as `=HYPERLINK(...)` is shown as text and never run. Numbers stay numbers: a negative T-score or
feature value is not a formula, so a cell that reads as a plain number is left as it is.
"""

import csv
from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _is_plain_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def spreadsheet_safe(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _is_plain_number(value):
        return "'" + value
    return value


class SpreadsheetSafeWriter:
    """csv.writer's interface (writerow, writerows), every cell neutralised on the way out."""

    def __init__(self, handle: Any, **options: Any) -> None:
        self._writer = csv.writer(handle, **options)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([spreadsheet_safe(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)
