from django.contrib import admin

from .models import Case, Cohort, Exclusion, Patient, QCTMeasurement, Split

admin.site.register(Patient)
admin.site.register(Cohort)
admin.site.register(Split)
admin.site.register(QCTMeasurement)
admin.site.register(Exclusion)


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = ("id", "patient", "exam_datetime", "scanner_model", "bone_status")
    list_filter = ("bone_status", "scanner_model")
