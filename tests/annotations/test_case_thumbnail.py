"""The case page's thumbnails: the reference VOI is drawn in colour for a PI, never for a coordinator
(who sees reading status, not masks)."""

import io

import numpy as np
from PIL import Image

from annotations.labelmaps import labelmap_nifti_bytes
from annotations.selectors import case_grid
from annotations.services import assignment_submit, review_approve, revision_save


def coloured_pixels(png: bytes) -> int:
    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    return int(((rgb[..., 0] - rgb[..., 2]) > 60).sum())  # the left femur's orange: red well above blue


def test_the_reference_voi_is_coloured_for_a_pi_and_absent_for_a_coordinator(
    client, make_assignment, reader, senior, pi, coordinator
):
    assignment = make_assignment(reader=reader)
    case = assignment.case
    nx, ny, nz = case.size
    labels = np.zeros((nz, ny, nx), np.uint8)
    labels[4:12, 6:14, 12:20] = 1
    revision_save(
        assignment=assignment,
        user=reader,
        content=labelmap_nifti_bytes(labels, grid=case_grid(case)),
        filename="voi.nii.gz",
        base_revision_id=None,
    )
    assignment_submit(assignment=assignment, user=reader)
    review_approve(assignment=assignment, reviewer=senior)
    for plane in ("axial", "coronal"):
        client.force_login(pi)
        assert coloured_pixels(client.get(f"/reading/cases/{case.pk}/{plane}.png").content) > 50, plane
        client.force_login(coordinator)
        assert coloured_pixels(client.get(f"/reading/cases/{case.pk}/{plane}.png").content) == 0, plane
