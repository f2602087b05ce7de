from django.contrib import admin

from .models import Case, Cohort, Exclusion, Patient, QCTMeasurement, Split
from .services import split_check_mutable

admin.site.register(Patient)
admin.site.register(Cohort)
admin.site.register(QCTMeasurement)
admin.site.register(Exclusion)


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = ("id", "patient", "exam_datetime", "scanner_model", "bone_status")
    list_filter = ("bone_status", "scanner_model")


@admin.register(Split)
class SplitAdmin(admin.ModelAdmin):
    """Splits are append-only, and one a model has used (locked) is shown read-only: the model's
    evaluation depends on its subsets. A new split version is made on the cohort page."""

    list_display = ("cohort", "version", "seed", "locked", "current")

    def has_change_permission(self, request, obj=None) -> bool:
        return super().has_change_permission(request, obj) and not (obj is not None and obj.locked)

    def has_delete_permission(self, request, obj=None) -> bool:
        return super().has_delete_permission(request, obj) and not (obj is not None and obj.locked)

    def save_model(self, request, obj, form, change) -> None:
        if change:
            # The row may have been locked since the form was shown; this refuses (409) rather than change it.
            split_check_mutable(obj)
        super().save_model(request, obj, form, change)
