"""Reading assignments, append-only VOI revisions, reviews, reference VOIs and reader agreement."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class Assignment(models.Model):
    """One reader's task to draw the proximal-femur VOI of one case.

    A case of the interobserver set has two assignments (one per reader); any other case has one, for the
    cohort's primary reader. Readers see only their own assignments; until both readers of a case have
    submitted once (first_submitted_at), neither may see the other's VOI.
    """

    class StudyRole(models.TextChoices):
        PRIMARY = "primary", "Primary reading"
        INTEROBSERVER = "interobserver", "Interobserver set"

    class Status(models.TextChoices):
        ASSIGNED = "assigned", "Assigned"
        IN_PROGRESS = "in_progress", "In progress"
        SUBMITTED = "submitted", "Submitted"
        RETURNED = "returned", "Returned"
        APPROVED = "approved", "Approved"

    EDITABLE_STATUSES = (Status.ASSIGNED, Status.IN_PROGRESS, Status.RETURNED)

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="assignments")
    reader = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="assignments")
    cohort = models.ForeignKey("cases.Cohort", on_delete=models.PROTECT, related_name="assignments")
    study_role = models.CharField(max_length=16, choices=StudyRole.choices, default=StudyRole.PRIMARY)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ASSIGNED)
    current_revision = models.ForeignKey(
        "VOIRevision", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="assignments_created"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    first_submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "reader"], name="one_assignment_per_case_and_reader"),
        ]

    def __str__(self) -> str:
        return f"Assignment {self.pk}: case {self.case_id} for {self.reader} ({self.status})"

    @property
    def is_editable(self) -> bool:
        return self.status in self.EDITABLE_STATUSES


class VOIRevision(models.Model):
    """One saved state of a reader's labelmap. Never changed nor deleted: a restore is a new revision."""

    assignment = models.ForeignKey(Assignment, on_delete=models.PROTECT, related_name="revisions")
    number = models.PositiveIntegerField()
    based_on = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    restored_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The canonical copy: NIfTI uint8 on the case grid (what training and agreement read).
    labelmap = models.FileField(upload_to="annotations/revisions/%Y/%m/")
    labelmap_sha256 = models.CharField(max_length=64)
    # The viewer's copy: raw uint8 labels, gzip, x fastest; served as is so opening the viewer costs no
    # conversion.
    viewer_labelmap = models.FileField(upload_to="annotations/revisions/%Y/%m/")
    voxels = models.JSONField(default=dict, help_text='Voxels per label, {"1": n, "2": n}.')
    volume_cm3 = models.JSONField(default=dict, help_text='Volume per label in cm3, {"1": v, "2": v}.')
    # Labels with a voxel on the grid's edge, ["1"] say: the VOI may be cut off by the scan's end or field of
    # view. Found when the revision is saved; None for revisions saved before it was recorded.
    touches_edge = models.JSONField(
        null=True, blank=True, help_text='Labels with a voxel on the edge of the grid, e.g. ["2"].'
    )
    edit_count = models.PositiveIntegerField(default=0)
    seconds_spent = models.FloatField(default=0.0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["assignment_id", "number"]
        constraints = [
            # Two saves racing on the same base both compute the same next number; this makes the
            # second one fail instead of silently forking the history.
            models.UniqueConstraint(
                fields=["assignment", "number"], name="one_revision_number_per_assignment"
            ),
        ]

    def __str__(self) -> str:
        return f"Revision {self.number} of assignment {self.assignment_id}"


class Review(models.Model):
    """A senior reader's decision on a submitted VOI."""

    class Decision(models.TextChoices):
        APPROVE = "approve", "Approved"
        RETURN = "return", "Returned to the reader"

    assignment = models.ForeignKey(Assignment, on_delete=models.PROTECT, related_name="reviews")
    revision = models.ForeignKey(VOIRevision, on_delete=models.PROTECT, related_name="reviews")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decision = models.CharField(max_length=8, choices=Decision.choices)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_decision_display()} by {self.reviewer} ({self.assignment_id})"


class ReferenceVOI(models.Model):
    """The approved VOI of a case, used for training. Rows are kept; only one per case is current."""

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="reference_vois")
    revision = models.ForeignKey(VOIRevision, on_delete=models.PROTECT, related_name="+")
    review = models.ForeignKey(Review, on_delete=models.PROTECT, related_name="+")
    is_current = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["case_id", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=Q(is_current=True), name="one_current_reference_voi_per_case"
            ),
        ]

    def __str__(self) -> str:
        return f"Reference VOI of case {self.case_id}: revision {self.revision_id}"


class AgreementResult(models.Model):
    """How well two readers' submitted VOIs of one case agree (see voi.metrics for the convention)."""

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="agreement_results")
    cohort = models.ForeignKey("cases.Cohort", on_delete=models.PROTECT, related_name="agreement_results")
    first_revision = models.ForeignKey(VOIRevision, on_delete=models.PROTECT, related_name="+")
    second_revision = models.ForeignKey(VOIRevision, on_delete=models.PROTECT, related_name="+")
    dice = models.JSONField(help_text='Dice per label and overall, {"1": d, "2": d, "overall": d}.')
    dice_overall = models.FloatField(null=True)
    hd95_mm = models.FloatField(null=True, help_text="95th percentile Hausdorff distance, whole foreground.")
    assd_mm = models.FloatField(null=True, help_text="Average symmetric surface distance, whole foreground.")
    volume_difference_cm3 = models.FloatField(help_text="First reader's volume minus the second's.")
    per_label = models.JSONField(help_text="Every metric per label (agreement.VOIAgreement.as_dict()).")
    computed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["case_id", "-computed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["first_revision", "second_revision"], name="one_agreement_per_revision_pair"
            ),
        ]

    def __str__(self) -> str:
        return f"Agreement on case {self.case_id}: Dice {self.dice_overall}"
