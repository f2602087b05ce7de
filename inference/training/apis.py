"""The models API under /api/models/: one class per operation, each with its own input and output
serializers. Reading needs a PI, coordinator or admin; starting jobs a PI or admin; promoting a PI."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import HasRole
from accounts.roles import Role
from cases.models import Cohort
from inference.models import ModelFile, ModelVersion
from inference.training import classifier, segmentation
from inference.training.versions import model_version_promote, model_version_retire
from jobs.apis import JobOutputSerializer
from osteoscreen.parsing import IdRelatedField, WholeNumberField

VIEWERS = HasRole(Role.PI, Role.COORDINATOR, Role.ADMIN)
JOB_STARTERS = HasRole(Role.PI, Role.ADMIN)
PROMOTERS = HasRole(Role.PI)


class ModelsApi(APIView):
    """Base of the models API. The services' refusals (ModelsError, a DomainError) reach the client
    through the one exception handler, osteoscreen.exceptions."""


class ModelFileOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = ModelFile
        fields = ["role", "sha256", "size_bytes", "created_at"]


class ModelVersionOutputSerializer(serializers.ModelSerializer):
    files = ModelFileOutputSerializer(many=True, read_only=True)
    created_by = serializers.CharField(source="created_by.username", default=None)
    promoted_by = serializers.CharField(source="promoted_by.username", default=None)

    class Meta:
        model = ModelVersion
        fields = [
            "id",
            "family",
            "number",
            "status",
            "name",
            "split",
            "parent",
            "job",
            "created_by",
            "created_at",
            "promoted_by",
            "promoted_at",
            "lineage",
            "metrics",
            "config",
            "files",
        ]


class ModelVersionListApi(generics.ListAPIView):
    permission_classes = [VIEWERS]
    serializer_class = ModelVersionOutputSerializer
    filterset_fields = ["family", "status"]

    def get_queryset(self):
        return (
            ModelVersion.objects.select_related("created_by", "promoted_by")
            .prefetch_related("files")
            .order_by("family", "-number")
        )


class ModelVersionDetailApi(generics.RetrieveAPIView):
    permission_classes = [VIEWERS]
    serializer_class = ModelVersionOutputSerializer
    queryset = ModelVersion.objects.prefetch_related("files")


class ModelVersionPromoteApi(ModelsApi):
    permission_classes = [PROMOTERS]

    @extend_schema(request=None, responses=ModelVersionOutputSerializer)
    def post(self, request, pk: int):
        version = model_version_promote(version=get_object_or_404(ModelVersion, pk=pk), actor=request.user)
        return Response(ModelVersionOutputSerializer(version).data)


class ModelVersionRetireApi(ModelsApi):
    permission_classes = [PROMOTERS]

    @extend_schema(request=None, responses=ModelVersionOutputSerializer)
    def post(self, request, pk: int):
        version = model_version_retire(version=get_object_or_404(ModelVersion, pk=pk), actor=request.user)
        return Response(ModelVersionOutputSerializer(version).data)


def _started(job) -> Response:
    return Response(JobOutputSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class JobStartApi(ModelsApi):
    """Base of the job-starting endpoints: a PI or admin, and the subclass's InputSerializer."""

    permission_classes = [JOB_STARTERS]
    InputSerializer: type[serializers.Serializer]

    def _input(self, request) -> dict:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


class SegmentationTrainApi(JobStartApi):
    """Start "Retrain segmentation" on the cohort's current split. 409 while one is training."""

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "SegmentationTrainInput"

        cohort = IdRelatedField(queryset=Cohort.objects.all())
        config_name = serializers.ChoiceField(choices=segmentation.CONFIG_NAMES, default="demo")
        epochs = WholeNumberField(min_value=1, max_value=5000, required=False)
        randomised_cases = WholeNumberField(
            min_value=0,
            max_value=200,
            required=False,
            help_text="randomised phantom cases mixed into the training (default: the configuration's)",
        )

    @extend_schema(request=InputSerializer, responses={202: JobOutputSerializer})
    def post(self, request):
        data = self._input(request)
        return _started(
            segmentation.segmentation_training_start(
                owner=request.user,
                cohort=data["cohort"],
                config_name=data["config_name"],
                epochs=data.get("epochs"),
                randomised_cases=data.get("randomised_cases"),
            )
        )


class SegmentCohortApi(JobStartApi):
    """Start "Segment cohort" with the active segmentation model (or the version given)."""

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "SegmentCohortInput"

        cohort = IdRelatedField(queryset=Cohort.objects.all())
        model_version = IdRelatedField(
            queryset=ModelVersion.objects.filter(family=ModelVersion.Family.SEGMENTATION), required=False
        )

    @extend_schema(request=InputSerializer, responses={202: JobOutputSerializer})
    def post(self, request):
        data = self._input(request)
        return _started(
            segmentation.segment_cohort_start(
                owner=request.user, cohort=data["cohort"], version=data.get("model_version")
            )
        )


class ClassifierTrainApi(JobStartApi):
    """Start "Retrain classifier" (radiomics RF + baseline) on the cohort's current split."""

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ClassifierTrainInput"

        cohort = IdRelatedField(queryset=Cohort.objects.all())
        mask_source = serializers.ChoiceField(choices=["auto", "prediction", "reference"], default="auto")
        sides = serializers.ListField(
            child=serializers.ChoiceField(choices=["left", "right"]), required=False, allow_empty=False
        )

    @extend_schema(request=InputSerializer, responses={202: JobOutputSerializer})
    def post(self, request):
        data = self._input(request)
        return _started(
            classifier.classifier_training_start(
                owner=request.user,
                cohort=data["cohort"],
                mask_source=data["mask_source"],
                sides=data.get("sides"),
            )
        )
