"""The dose-length product from a CT Radiation Dose Structured Report (RDSR, DICOM TID 10011).

The exam's total sits in the report's content tree as a numeric item "CT Dose Length Product Total"
(DCM 113813) in mGy.cm, inside "CT Accumulated Dose Data" (DCM 113811).
"""

import pydicom

# SOP classes a dose report comes in: X-Ray Radiation Dose SR, and Enhanced / Comprehensive SR, which
# some scanners use for the same template.
DOSE_REPORT_SOP_CLASSES = {
    "1.2.840.10008.5.1.4.1.1.88.67",  # X-Ray Radiation Dose SR
    "1.2.840.10008.5.1.4.1.1.88.22",  # Enhanced SR
    "1.2.840.10008.5.1.4.1.1.88.33",  # Comprehensive SR
}
DOSE_REPORT_TITLE = ("DCM", "113701")  # X-Ray Radiation Dose Report
DLP_TOTAL = ("DCM", "113813")  # CT Dose Length Product Total
DLP_UNITS = {"mGy.cm", "mGy*cm", "mGycm"}


def _code(item) -> tuple[str, str]:
    sequence = item.get("ConceptNameCodeSequence")
    if not sequence:
        return "", ""
    return str(sequence[0].get("CodingSchemeDesignator", "")), str(sequence[0].get("CodeValue", ""))


def is_dose_report(header: pydicom.Dataset) -> bool:
    return (
        str(header.get("SOPClassUID", "")) in DOSE_REPORT_SOP_CLASSES and _code(header) == DOSE_REPORT_TITLE
    )


def _numeric_items(items, concept: tuple[str, str]):
    for item in items or []:
        if str(item.get("ValueType", "")) == "NUM" and _code(item) == concept:
            yield item
        yield from _numeric_items(item.get("ContentSequence"), concept)


def dlp_total_mgycm(report: pydicom.Dataset) -> float | None:
    """The report's total DLP in mGy.cm, or None when it states none in that unit."""
    for item in _numeric_items(report.get("ContentSequence"), DLP_TOTAL):
        measured = item.get("MeasuredValueSequence")
        if not measured:
            continue
        units = measured[0].get("MeasurementUnitsCodeSequence")
        unit = str(units[0].get("CodeValue", "")) if units else ""
        if unit in DLP_UNITS:
            return float(measured[0].NumericValue)
    return None
