from django.conf import settings
from django.db import models

from .bone_status import CLASSES


def volume_upload_to(instance: "Case", filename: str) -> str:
    return f"volumes/{instance.volume_sha256[:2]}/{instance.volume_sha256}.nii.gz"


class Patient(models.Model):
    """A study participant under a pseudonym: no names, no hospital ids, birth year only."""

    class Sex(models.TextChoices):
        MALE = "M", "male"
        FEMALE = "F", "female"
        UNKNOWN = "", "unknown"

    study_id = models.CharField(max_length=64, unique=True)
    sex = models.CharField(max_length=1, choices=Sex.choices, blank=True)
    birth_year = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["study_id"]

    def __str__(self) -> str:
        return self.study_id


class Case(models.Model):
    """One low-dose CT series, stored as canonical NIfTI (int16 HU, LPS orientation)."""

    BONE_STATUS_CHOICES = [("", "unknown")] + [(c, c) for c in CLASSES]

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="cases")
    series_uid = models.CharField(max_length=128, blank=True, db_index=True)
    exam_datetime = models.DateTimeField(null=True, blank=True, db_index=True)
    scanner_model = models.CharField(max_length=128, blank=True)
    manufacturer = models.CharField(max_length=128, blank=True)
    kvp = models.FloatField(null=True, blank=True)
    slice_thickness_mm = models.FloatField(null=True, blank=True)
    spacing = models.JSONField(help_text="voxel spacing [x, y, z] in mm")
    size = models.JSONField(help_text="dimensions [x, y, z] in voxels")
    origin = models.JSONField()
    direction = models.JSONField()
    dlp_mgycm = models.FloatField(null=True, blank=True)
    effective_dose_msv = models.FloatField(null=True, blank=True)
    volume = models.FileField(upload_to=volume_upload_to, max_length=255)
    volume_sha256 = models.CharField(max_length=64, unique=True)
    source = models.CharField(max_length=32, blank=True, help_text="nifti, dicom or pacs")
    bone_status = models.CharField(max_length=16, choices=BONE_STATUS_CHOICES, blank=True, db_index=True)
    import_report = models.JSONField(
        default=dict,
        blank=True,
        help_text="DICOM: the series read, those passed over "
        "and why, geometry notes (resampling), where the DLP came from",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["series_uid"], condition=~models.Q(series_uid=""), name="case_unique_series_uid"
            )
        ]

    def __str__(self) -> str:
        return f"{self.patient.study_id} #{self.pk}"

    @property
    def is_excluded(self) -> bool:
        return self.exclusions.exists()


class DicomSource(models.Model):
    """The source series' UIDs, PatientID and slice positions, encrypted (cases/dicom/source.py): opened only
    to reference the source in a DICOM SEG/SR export; never shown."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="dicom_source")
    sealed = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"DICOM source of {self.case}"


class QCTMeasurement(models.Model):
    """QCT densitometry of one case: BMD and T-score at the four hip sites.

    BMD is stored as the QCT software reports it: volumetric mg/cm3, or areal DXA-equivalent g/cm2
    (what CTXA-style hip QCT reports at these sites); `bmd_unit` says which. T-scores are unitless.
    """

    class BMDUnit(models.TextChoices):
        MG_PER_CM3 = "mg/cm3", "mg/cm³ (volumetric)"
        G_PER_CM2 = "g/cm2", "g/cm² (areal, DXA-equivalent)"

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="qct")
    qct_date = models.DateField()
    bmd_unit = models.CharField(max_length=8, choices=BMDUnit.choices, default=BMDUnit.MG_PER_CM3)
    femoral_neck_bmd = models.FloatField(null=True, blank=True)
    femoral_neck_t = models.FloatField(null=True, blank=True)
    trochanter_bmd = models.FloatField(null=True, blank=True)
    trochanter_t = models.FloatField(null=True, blank=True)
    intertrochanter_bmd = models.FloatField(null=True, blank=True)
    intertrochanter_t = models.FloatField(null=True, blank=True)
    total_hip_bmd = models.FloatField(null=True, blank=True)
    total_hip_t = models.FloatField(null=True, blank=True)
    days_from_ct = models.IntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"QCT of {self.case}"

    def t_scores(self) -> dict[str, float | None]:
        return {
            site: getattr(self, f"{site}_t")
            for site in ("femoral_neck", "trochanter", "intertrochanter", "total_hip")
        }


class Exclusion(models.Model):
    class Reason(models.TextChoices):
        BONE_METASTASES = "bone_metastases", "bone metastases"
        EXTRAOSSEOUS_METASTASES = "extraosseous_metastases", "extra-osseous metastases"
        HIP_FRACTURE = "hip_fracture", "hip fracture"
        HIP_REPLACEMENT = "hip_replacement", "hip replacement"
        INCOMPLETE_CT = "incomplete_ct", "incomplete CT"
        OTHER = "other", "other"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="exclusions")
    reason = models.CharField(max_length=32, choices=Reason.choices)
    note = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "reason"], name="exclusion_once_per_reason")]

    def __str__(self) -> str:
        return f"{self.case}: {self.get_reason_display()}"


class QCFinding(models.Model):
    """One automatic QC finding on a case (platform/imageqc): a side that cannot be assessed, and why.

    Found on import (image checks) or when a model segments the case (its mask's checks). A coordinator
    confirms it, which records the suggested (or another) exclusion, or dismisses it; either is kept with
    who decided and when.
    """

    class Status(models.TextChoices):
        OPEN = "open", "open"
        CONFIRMED = "confirmed", "confirmed as an exclusion"
        DISMISSED = "dismissed", "dismissed"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="qc_findings")
    source = models.CharField(
        max_length=64, help_text="import, or the segmentation version whose mask was checked"
    )
    code = models.CharField(max_length=32)
    side = models.CharField(max_length=8, blank=True, help_text="left, right, or blank for the whole image")
    reason = models.TextField()
    suggested_exclusion = models.CharField(max_length=32, choices=Exclusion.Reason.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True)
    exclusion = models.ForeignKey(
        Exclusion, null=True, blank=True, on_delete=models.SET_NULL, related_name="qc_findings"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["case", "side", "created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "source", "code", "side"], name="qc_finding_once_per_source"
            )
        ]

    def __str__(self) -> str:
        return f"{self.case}: {self.side or 'image'}: {self.reason}"


class Cohort(models.Model):
    """A set of screened cases. Included cases are those without an exclusion."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    cases = models.ManyToManyField(Case, related_name="cohorts", blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Split(models.Model):
    """A frozen assignment of a cohort's included cases to training / validation / test.

    Append-only: a new split is a new version. Once a model has used a split it is locked and can
    never change; `current` marks the version new work should use.
    """

    cohort = models.ForeignKey(Cohort, on_delete=models.PROTECT, related_name="splits")
    version = models.PositiveIntegerField()
    seed = models.BigIntegerField()
    params = models.JSONField(default=dict)
    locked = models.BooleanField(default=False)
    current = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["cohort", "-version"]
        constraints = [models.UniqueConstraint(fields=["cohort", "version"], name="split_unique_version")]

    def __str__(self) -> str:
        return f"{self.cohort.name} split v{self.version}"


class SplitMembership(models.Model):
    class Subset(models.TextChoices):
        TRAINING = "training"
        VALIDATION = "validation"
        TEST = "test"

    split = models.ForeignKey(Split, on_delete=models.CASCADE, related_name="memberships")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="split_memberships")
    subset = models.CharField(max_length=10, choices=Subset.choices, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["split", "case"], name="split_case_once")]

    def __str__(self) -> str:
        return f"{self.case} in {self.subset}"
