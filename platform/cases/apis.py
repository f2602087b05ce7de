"""The cases API: one class per operation, each with its own input and output serializer."""

import dataclasses
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.shortcuts import get_object_or_404
from django_filters import rest_framework as filters
from rest_framework import generics, serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import HasRole
from accounts.roles import Role
from jobs.apis import JobOutputSerializer
from jobs.services import job_start

from . import services
from .models import Case, Cohort, Exclusion, Split
from .selectors import cases_visible_to, cohort_flow
from .validation import NIFTI_SUFFIXES, ImportRejected

MANAGERS = HasRole(Role.COORDINATOR, Role.ADMIN)
READERS_OF_ALL = HasRole(Role.COORDINATOR, Role.PI, Role.ADMIN)


class QCTOutputSerializer(serializers.Serializer):
    qct_date = serializers.DateField()
    days_from_ct = serializers.IntegerField(allow_null=True)
    femoral_neck_bmd = serializers.FloatField(allow_null=True)
    femoral_neck_t = serializers.FloatField(allow_null=True)
    trochanter_bmd = serializers.FloatField(allow_null=True)
    trochanter_t = serializers.FloatField(allow_null=True)
    intertrochanter_bmd = serializers.FloatField(allow_null=True)
    intertrochanter_t = serializers.FloatField(allow_null=True)
    total_hip_bmd = serializers.FloatField(allow_null=True)
    total_hip_t = serializers.FloatField(allow_null=True)


class ExclusionOutputSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username", default=None)

    class Meta:
        model = Exclusion
        fields = ["id", "reason", "note", "created_by", "created_at"]


class CaseOutputSerializer(serializers.ModelSerializer):
    study_id = serializers.CharField(source="patient.study_id")
    sex = serializers.CharField(source="patient.sex")
    birth_year = serializers.IntegerField(source="patient.birth_year", allow_null=True)
    qct = serializers.SerializerMethodField()
    exclusions = ExclusionOutputSerializer(many=True)

    class Meta:
        model = Case
        fields = ["id", "study_id", "sex", "birth_year", "exam_datetime", "scanner_model", "manufacturer", "kvp",
                  "slice_thickness_mm", "spacing", "size", "origin", "direction", "dlp_mgycm", "effective_dose_msv",
                  "volume_sha256", "source", "bone_status", "qct", "exclusions", "created_at"]

    def get_qct(self, case: Case):
        qct = getattr(case, "qct", None)
        return QCTOutputSerializer(qct).data if qct else None


class CaseFilter(filters.FilterSet):
    cohort = filters.NumberFilter(field_name="cohorts__id")
    split = filters.NumberFilter(field_name="split_memberships__split_id")
    subset = filters.CharFilter(field_name="split_memberships__subset")
    excluded = filters.BooleanFilter(method="filter_excluded")
    bone_status = filters.CharFilter()
    study_id = filters.CharFilter(field_name="patient__study_id", lookup_expr="icontains")

    class Meta:
        model = Case
        fields = ["bone_status"]

    def filter_excluded(self, queryset, name, value):
        return queryset.filter(exclusions__isnull=not value).distinct()


class CaseListApi(generics.ListAPIView):
    serializer_class = CaseOutputSerializer
    filterset_class = CaseFilter
    ordering_fields = ["id", "exam_datetime"]

    def get_queryset(self):
        return cases_visible_to(self.request.user).distinct()


class CaseDetailApi(generics.RetrieveAPIView):
    serializer_class = CaseOutputSerializer

    def get_queryset(self):
        return cases_visible_to(self.request.user)


class CaseImportApi(APIView):
    """Upload one CT: NIfTI (.nii, .nii.gz) or a DICOM series as .zip. Small files import in the request
    (201 with the case); big ones become a background job (202 with the job)."""

    permission_classes = [MANAGERS]
    parser_classes = [MultiPartParser, FormParser]

    class InputSerializer(serializers.Serializer):
        file = serializers.FileField()
        study_id = serializers.CharField(required=False, allow_blank=True, max_length=64)
        sex = serializers.ChoiceField(choices=["M", "F", ""], required=False, allow_blank=True)
        birth_year = serializers.IntegerField(required=False, allow_null=True, min_value=1900, max_value=2100)

    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        name = upload.name.lower()
        if not name.endswith((*NIFTI_SUFFIXES, ".zip")):
            return Response({"detail": f"{upload.name}: send a NIfTI file (.nii, .nii.gz) or a DICOM series as .zip"},
                            status=status.HTTP_400_BAD_REQUEST)
        if upload.size > settings.IMPORT_MAX_UPLOAD_BYTES:
            return Response({"detail": f"{upload.name} is {upload.size:,} bytes, over the limit"}, status=413)
        suffix = ".nii.gz" if name.endswith(".nii.gz") else Path(name).suffix
        staged = services.staging_store(upload, suffix)
        params = {k: v for k, v in data.validated_data.items() if k != "file"}
        if upload.size > settings.IMPORT_BACKGROUND_BYTES:
            job = job_start(kind="cases.import_file", owner=request.user,
                            params={"path": str(staged), "filename": upload.name, "subject": upload.name, **params})
            return Response({"job": JobOutputSerializer(job).data}, status=status.HTTP_202_ACCEPTED)
        try:
            outcome = services.case_import(path=staged, actor=request.user, **params)
        except ImportRejected as exc:
            # Name the user's file, not our staging copy.
            return Response({"detail": str(exc).replace(staged.name, upload.name)}, status=status.HTTP_400_BAD_REQUEST)
        finally:
            services.remove_quietly(staged)
        body = CaseOutputSerializer(outcome.case).data
        return Response({**body, "created": outcome.created},
                        status=status.HTTP_201_CREATED if outcome.created else status.HTTP_200_OK)


class QCTImportApi(APIView):
    """Upload a QCT CSV (columns in README). Every row is checked first; any error stores nothing."""

    permission_classes = [MANAGERS]
    parser_classes = [MultiPartParser, FormParser]

    class InputSerializer(serializers.Serializer):
        file = serializers.FileField()
        dry_run = serializers.BooleanField(
            default=False, help_text="check every row and list each refused row and column; store nothing")

    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        if upload.size > 50 * 1024 * 1024:
            return Response({"detail": "the CSV is over 50 MB"}, status=413)
        try:
            text = upload.read().decode("utf-8")
        except UnicodeDecodeError:
            return Response({"detail": "the file is not UTF-8 text"}, status=status.HTTP_400_BAD_REQUEST)
        rows, problems = services.qct_csv_check(text)
        checked = {"rows": rows, "problems": [dataclasses.asdict(p) for p in problems]}
        if data.validated_data["dry_run"]:
            return Response(checked)
        try:
            stored = services.qct_import_csv(text=text, actor=request.user)
        except ImportRejected as exc:
            return Response({"detail": str(exc), **checked}, status=status.HTTP_400_BAD_REQUEST)
        return Response({"imported": len(stored)}, status=status.HTTP_201_CREATED)


class ExclusionCreateApi(APIView):
    permission_classes = [MANAGERS]

    class InputSerializer(serializers.Serializer):
        reason = serializers.ChoiceField(choices=Exclusion.Reason.choices)
        note = serializers.CharField(required=False, allow_blank=True)

    def post(self, request, pk: int):
        case = get_object_or_404(Case, pk=pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        exclusion = services.exclusion_add(case=case, actor=request.user, **data.validated_data)
        return Response(ExclusionOutputSerializer(exclusion).data, status=status.HTTP_201_CREATED)


class CohortOutputSerializer(serializers.ModelSerializer):
    n_cases = serializers.IntegerField(source="cases.count")

    class Meta:
        model = Cohort
        fields = ["id", "name", "description", "n_cases", "created_at"]


class CohortListApi(generics.ListAPIView):
    permission_classes = [READERS_OF_ALL]
    serializer_class = CohortOutputSerializer
    queryset = Cohort.objects.all()


class CohortCreateApi(APIView):
    permission_classes = [MANAGERS]

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=100)
        description = serializers.CharField(required=False, allow_blank=True)
        case_ids = serializers.ListField(child=serializers.IntegerField(), required=False)

    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        ids = data.validated_data.get("case_ids", [])
        cases = list(Case.objects.filter(pk__in=ids))
        if len(cases) != len(set(ids)):
            return Response({"detail": "unknown case id(s)"}, status=status.HTTP_400_BAD_REQUEST)
        try:
            cohort = services.cohort_create(name=data.validated_data["name"], cases=cases, actor=request.user,
                                            description=data.validated_data.get("description", ""))
        except ImportRejected as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
        return Response(CohortOutputSerializer(cohort).data, status=status.HTTP_201_CREATED)


class CohortFlowApi(APIView):
    permission_classes = [READERS_OF_ALL]

    def get(self, request, pk: int):
        return Response(cohort_flow(get_object_or_404(Cohort, pk=pk)))


class SplitOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Split
        fields = ["id", "cohort", "version", "seed", "params", "locked", "current", "created_at"]


class SplitCreateApi(APIView):
    permission_classes = [MANAGERS]

    class InputSerializer(serializers.Serializer):
        seed = serializers.IntegerField(default=20240101)
        test_fraction = serializers.FloatField(default=0.22, min_value=0, max_value=0.9)
        test_cutoff = serializers.DateField(required=False, allow_null=True)
        validation_fraction = serializers.FloatField(default=0.3, min_value=0.05, max_value=0.9)
        stratify = serializers.BooleanField(default=True)

    def post(self, request, pk: int):
        cohort = get_object_or_404(Cohort, pk=pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            with transaction.atomic():
                split = services.split_create(cohort=cohort, params=services.SplitParams(**data.validated_data),
                                              actor=request.user)
        except ImportRejected as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
        return Response(SplitOutputSerializer(split).data, status=status.HTTP_201_CREATED)
