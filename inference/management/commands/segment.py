"""segment IMAGE --out MASK.nii.gz [--model-version V]: the segmentation cascade on one CT, for batch use."""

import time

import SimpleITK as sitk
from django.core.management.base import BaseCommand, CommandError

from inference import selectors
from inference.errors import ModelsError
from inference.models import ModelVersion
from inference.predictions.screening import read_ct, screening_qc
from inference.training.segmentation import segment_ct
from voi.labels import LEFT, RIGHT


class Command(BaseCommand):
    help = "Label the left (1) and right (2) proximal femur of a CT (NIfTI file or DICOM folder)."

    def add_arguments(self, parser):
        parser.add_argument("image", help="CT volume: a NIfTI file or a folder holding one DICOM series")
        parser.add_argument(
            "--out", required=True, help="where to write the mask (.nii.gz, uint8, on the CT's grid)"
        )
        parser.add_argument(
            "--model-version",
            type=int,
            default=None,
            help="segmentation version number (default: the active one)",
        )

    def handle(self, *args, image, out, model_version, **options):
        if not out.endswith((".nii.gz", ".nii")):
            raise CommandError(f"--out must name a NIfTI file (.nii.gz or .nii), not {out!r}")
        try:
            ct = read_ct(image)
            version = selectors.deployed_version(ModelVersion.Family.SEGMENTATION, model_version)
            started = time.perf_counter()
            confidence: dict[int, float] = {}
            mask = segment_ct(ct, version, confidence_out=confidence)
        except (ModelsError, ValueError) as error:
            raise CommandError(getattr(error, "message", str(error))) from error
        seconds = time.perf_counter() - started
        sitk.WriteImage(mask, out, useCompression=True)
        counts = {label: int((sitk.GetArrayViewFromImage(mask) == label).sum()) for label in (LEFT, RIGHT)}
        self.stdout.write(
            f"{out}: left {counts[LEFT]} voxels, right {counts[RIGHT]} voxels "
            f"(segmentation v{version.number}, {seconds:.1f} s)"
        )
        # The mask is written either way (a reader may correct it); QC says whether each side can be used.
        for side, verdict in screening_qc(ct, mask, sides=("left", "right"), confidence=confidence).items():
            state = "assessable" if verdict["assessable"] else f"not assessable ({'; '.join(verdict['qc'])})"
            self.stdout.write(f"{side}: {state}")
