"""Read-only admin views: revisions, reviews, reference VOIs and agreement are append-only records,
written only by the services (so blinding and the audit trail hold)."""

from django.contrib import admin

from .models import AgreementResult, Assignment, ReferenceVOI, Review, VOIRevision


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Assignment)
class AssignmentAdmin(ReadOnlyAdmin):
    list_display = ["id", "case", "reader", "cohort", "study_role", "status", "submitted_at"]
    list_filter = ["status", "study_role", "cohort"]


@admin.register(VOIRevision)
class VOIRevisionAdmin(ReadOnlyAdmin):
    list_display = ["id", "assignment", "number", "edit_count", "seconds_spent", "created_at"]


@admin.register(Review)
class ReviewAdmin(ReadOnlyAdmin):
    list_display = ["id", "assignment", "decision", "reviewer", "created_at"]


@admin.register(ReferenceVOI)
class ReferenceVOIAdmin(ReadOnlyAdmin):
    list_display = ["id", "case", "revision", "is_current", "created_at"]


@admin.register(AgreementResult)
class AgreementResultAdmin(ReadOnlyAdmin):
    list_display = ["id", "case", "cohort", "dice_overall", "hd95_mm", "assd_mm", "volume_difference_cm3"]
