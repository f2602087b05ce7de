"""Model versions, their files, predictions and stored radiomics features.

Append-only: a version is never overwritten. A trained checkpoint and a published (active) model are
different things: one version per family is `active`, and a PI moves that pointer by promoting.
"""

from django.conf import settings
from django.db import models

from cases.bone_status import CLASSES


class ModelVersion(models.Model):
    class Family(models.TextChoices):
        SEGMENTATION = "segmentation"
        CLASSIFIER = "classifier"
        BASELINE = "baseline", "baseline (mean trabecular HU)"

    class Status(models.TextChoices):
        TRAINING = "training"
        TRAINED = "trained"
        ACTIVE = "active"
        RETIRED = "retired"
        FAILED = "failed"

    family = models.CharField(max_length=16, choices=Family.choices, db_index=True)
    number = models.PositiveIntegerField(help_text="version number within the family")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.TRAINING, db_index=True)
    name = models.CharField(max_length=100, blank=True)
    config = models.JSONField(default=dict, blank=True, help_text="architecture/hyperparameters as trained")
    metrics = models.JSONField(default=dict, blank=True)
    lineage = models.JSONField(
        default=dict,
        blank=True,
        help_text="split id, segmentation version, feature settings hash, seed, code version",
    )
    split = models.ForeignKey(
        "cases.Split", null=True, blank=True, on_delete=models.PROTECT, related_name="model_versions"
    )
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="children",
        help_text="for a classifier: the segmentation version whose masks it used",
    )
    job = models.ForeignKey(
        "jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="model_versions"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    promoted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    promoted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["family", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["family", "number"], name="model_version_unique_number"),
            models.UniqueConstraint(
                fields=["family"], condition=models.Q(status="active"), name="one_active_per_family"
            ),
            # One training of a family at a time: a second start fails here even when two requests race.
            models.UniqueConstraint(
                fields=["family"], condition=models.Q(status="training"), name="one_training_per_family"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.family} v{self.number}{' ' + self.name if self.name else ''}"


def model_file_upload_to(instance: "ModelFile", filename: str) -> str:
    return f"models/{instance.version.family}/v{instance.version.number}/{filename}"


class ModelFile(models.Model):
    """A file of a model version (checkpoint, fitted pipeline, feature table) with its SHA-256."""

    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="files")
    role = models.CharField(max_length=32, help_text="e.g. coarse, fine, classifier, features")
    file = models.FileField(upload_to=model_file_upload_to, max_length=255)
    sha256 = models.CharField(max_length=64)
    size_bytes = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["version", "role"], name="model_file_unique_role")]

    def __str__(self) -> str:
        return f"{self.version} {self.role}"


def predicted_mask_upload_to(instance: "SegmentationPrediction", filename: str) -> str:
    return f"predictions/seg-v{instance.model_version.number}/{instance.case_id}-{instance.mask_sha256[:12]}.nii.gz"


class SegmentationPrediction(models.Model):
    """A segmentation model's mask for a case, with Dice and volume difference against the reference VOI
    when one exists (the rows of the paper's Table 2)."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="segmentations")
    model_version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="segmentations")
    mask = models.FileField(upload_to=predicted_mask_upload_to, max_length=255)
    mask_sha256 = models.CharField(max_length=64)
    voxels = models.JSONField(default=dict, help_text="voxel count per label")
    dice = models.JSONField(default=dict, blank=True, help_text="per label and overall, vs the reference VOI")
    volume_difference_cm3 = models.JSONField(
        default=dict, blank=True, help_text="reference minus predicted, per label"
    )
    reference_sha256 = models.CharField(max_length=64, blank=True)
    seconds = models.FloatField(null=True, blank=True)
    job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "model_version"], name="one_segmentation_per_case_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.model_version} on {self.case}"


class FeatureVector(models.Model):
    """Radiomics features of one side of one VOI, keyed by what they were computed from."""

    class MaskSource(models.TextChoices):
        REFERENCE = "reference"
        READER = "reader"
        PREDICTION = "prediction"

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="feature_vectors")
    mask_source = models.CharField(max_length=12, choices=MaskSource.choices)
    mask_sha256 = models.CharField(max_length=64)
    side = models.PositiveSmallIntegerField(help_text="label: 1 left, 2 right")
    settings_hash = models.CharField(max_length=64, db_index=True)
    features = models.JSONField()
    versions = models.JSONField(default=dict, help_text="pyradiomics, numpy, SimpleITK versions")
    seconds = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["case", "mask_source", "mask_sha256", "side", "settings_hash"],
                name="feature_vector_unique_key",
            )
        ]

    def __str__(self) -> str:
        return f"features of {self.case} ({self.mask_source}, side {self.side})"


class Prediction(models.Model):
    """Bone-status probabilities for a case from a classifier version (and the masks it read)."""

    CLASS_CHOICES = [(c, c) for c in CLASSES]

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="predictions")
    model_version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="predictions")
    segmentation = models.ForeignKey(
        SegmentationPrediction, null=True, blank=True, on_delete=models.SET_NULL, related_name="predictions"
    )
    mask_source = models.CharField(max_length=12, choices=FeatureVector.MaskSource.choices)
    probabilities = models.JSONField(help_text="{class: probability}")
    predicted_class = models.CharField(max_length=16, choices=CLASS_CHOICES)
    true_class = models.CharField(max_length=16, blank=True, help_text="the case's QCT class when predicted")
    subset = models.CharField(
        max_length=10, blank=True, help_text="training / validation / test in the version's split"
    )
    job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["case_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "model_version", "mask_source"], name="one_prediction_per_case_version_source"
            )
        ]

    def __str__(self) -> str:
        return f"{self.model_version} on {self.case}: {self.predicted_class}"
