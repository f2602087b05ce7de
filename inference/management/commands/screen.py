"""screen IMAGE [--json]: the whole deployed path on one CT -> bone status and class probabilities."""

import json

from django.core.management.base import BaseCommand, CommandError

from inference.errors import ModelsError
from inference.predictions.screening import read_ct, screen_ct


class Command(BaseCommand):
    help = (
        "Screen one CT for osteoporosis: active segmentation -> proximal-femur mask -> radiomics -> "
        "classifier. Prints the class and the probabilities."
    )

    def add_arguments(self, parser):
        parser.add_argument("image", help="CT volume: a NIfTI file or a folder holding one DICOM series")
        parser.add_argument("--json", action="store_true", help="print one JSON object")
        parser.add_argument("--classifier-version", type=int, default=None)
        parser.add_argument("--segmentation-version", type=int, default=None)
        parser.add_argument("--mask-out", default=None, help="also write the predicted mask here (.nii.gz)")
        parser.add_argument(
            "--workers", type=int, default=None, help="processes for the radiomics (default: CPUs, max 4)"
        )

    def handle(self, *args, **options):
        try:
            result = screen_ct(
                read_ct(options["image"]),
                classifier_number=options["classifier_version"],
                segmentation_number=options["segmentation_version"],
                workers=options["workers"],
                mask_out=options["mask_out"],
            )
        except (ModelsError, ValueError) as error:
            raise CommandError(getattr(error, "message", str(error))) from error
        if options["json"]:
            self.stdout.write(json.dumps(result.as_dict(), indent=2))
            return
        for side, verdict in result.per_side.items():
            state = "assessable" if verdict["assessable"] else f"not assessable ({'; '.join(verdict['qc'])})"
            self.stdout.write(f"{side}: {state}")
        self.stdout.write(f"bone status: {result.predicted_class or 'not assessable'}")
        for name, probability in result.probabilities.items():
            self.stdout.write(f"  {name:<13} {probability:6.3f}")
        if result.baseline_probabilities:
            probabilities = result.baseline_probabilities
            baseline = max(probabilities, key=lambda name: probabilities[name])
            self.stdout.write(f"baseline (mean trabecular HU): {baseline}")
        self.stdout.write("versions: " + ", ".join(f"{k} v{v}" for k, v in result.versions.items() if v))
        self.stdout.write("seconds: " + ", ".join(f"{k} {v:.2f}" for k, v in result.seconds.items()))
