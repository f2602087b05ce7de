from django.contrib import admin

from .models import FeatureVector, ModelFile, ModelVersion, Prediction, SegmentationPrediction


class ModelFileInline(admin.TabularInline):
    model = ModelFile
    extra = 0
    readonly_fields = ["role", "file", "sha256", "size_bytes", "created_at"]
    can_delete = False


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    """Read-mostly: versions change only through the services (promotion is a PI's act on the model pages)."""

    list_display = ["family", "number", "status", "name", "split", "created_at", "promoted_at"]
    list_filter = ["family", "status"]
    readonly_fields = [f.name for f in ModelVersion._meta.fields]
    inlines = [ModelFileInline]


@admin.register(SegmentationPrediction)
class SegmentationPredictionAdmin(admin.ModelAdmin):
    list_display = ["case", "model_version", "mask_sha256", "created_at"]
    list_filter = ["model_version"]
    readonly_fields = [f.name for f in SegmentationPrediction._meta.fields]


@admin.register(Prediction)
class PredictionAdmin(admin.ModelAdmin):
    list_display = ["case", "model_version", "mask_source", "predicted_class", "true_class", "subset"]
    list_filter = ["model_version", "mask_source", "subset"]
    readonly_fields = [f.name for f in Prediction._meta.fields]


@admin.register(FeatureVector)
class FeatureVectorAdmin(admin.ModelAdmin):
    list_display = ["case", "mask_source", "side", "settings_hash", "created_at"]
    list_filter = ["mask_source", "side"]
    readonly_fields = [f.name for f in FeatureVector._meta.fields]
