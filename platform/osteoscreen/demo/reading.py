"""The demo's reading, done through the same services a reader's browser uses: the synthetic cohort's
reader masks are saved as VOI revisions, submitted, and approved by the senior reader."""

import csv
from pathlib import Path

from annotations.models import Assignment
from annotations.services import (
    assignment_submit,
    assignments_create_for_cohort,
    review_approve,
    revision_save,
    senior_reader_grant,
)
from cases.models import Cohort


def _manifest(folder: Path) -> dict[str, dict]:
    with open(folder / "manifest.csv", newline="") as handle:
        return {row["study_id"]: row for row in csv.DictReader(handle)}


def _mask_for(row: dict, reader_number: int, folder: Path) -> Path:
    column = f"reader{reader_number}_mask"
    return folder / (row.get(column) or row["reference_mask"])


def demo_reading_load(
    *, cohort: Cohort, folder: Path, users: dict, seed: int, interobserver_count: int, open_cases: int
) -> dict:
    junior, senior = users["reader1"], users["reader2"]
    senior_reader_grant(user=senior)
    assignments = assignments_create_for_cohort(
        cohort=cohort,
        primary_reader=junior,
        second_reader=senior,
        created_by=users["coordinator"],
        interobserver_count=interobserver_count,
        seed=seed,
    )
    rows = _manifest(folder)
    primary = [a for a in assignments if a.study_role == Assignment.StudyRole.PRIMARY]
    left_open = {a.pk for a in primary[-open_cases:]} if open_cases else set()
    done = 0
    for assignment in assignments:
        if assignment.pk in left_open:
            continue
        reader_number = 1 if assignment.reader_id == junior.pk else 2
        path = _mask_for(rows[assignment.case.patient.study_id], reader_number, folder)
        revision_save(
            assignment=assignment,
            user=assignment.reader,
            content=path.read_bytes(),
            filename=path.name,
            base_revision_id=None,
            edit_count=1,
            seconds_spent=0.0,
        )
        assignment_submit(assignment=assignment, user=assignment.reader)
        done += 1
    approved = 0
    for assignment in Assignment.objects.filter(
        cohort=cohort, reader=junior, status=Assignment.Status.SUBMITTED
    ):
        review_approve(assignment=assignment, reviewer=senior, comment="demo: approved")
        approved += 1
    return {
        "assignments": len(assignments),
        "submitted": done,
        "reference_vois": approved,
        "open": len(left_open),
    }
