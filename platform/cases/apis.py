"""The cases API: one class per operation, each with its own input and output serializer."""

import dataclasses
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.shortcuts import get_object_or_404
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import HasRole, sees_reference_standard
from accounts.roles import Role, has_role
from jobs.apis import JobOutputSerializer
from jobs.services import job_start
from osteoscreen.api import BAD_REQUEST, REFUSED
from osteoscreen.parsing import IdField, IdFormField, WholeNumberField

from . import services
from .kinds import IMPORT_FILE_JOB
from .models import Case, Cohort, Exclusion, Split
from .selectors import cases_visible_to, cohort_flow
from .validation import NIFTI_SUFFIXES, ImportRejected

MANAGERS = HasRole(Role.COORDINATOR, Role.ADMIN)
# A QCT CSV has one short row per patient: 10,000 patients take about 1 MB. The whole file is read to check
# every row before storing any, so its size is bounded well below what a web worker can hold.
QCT_CSV_MAX_BYTES = 8 * 1024**2
READERS_OF_ALL = HasRole(Role.COORDINATOR, Role.PI, Role.ADMIN)
FILE_HASH_ROLES = (Role.COORDINATOR, Role.PI, Role.ADMIN)


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


BLINDED_NOTE = "Absent for readers while the study is blinded (STUDY_UNBLINDED is off)."


class CaseOutputSerializer(serializers.ModelSerializer):
    """A case. The reference standard (bone status, QCT, exclusions) is left out when the serializer's
    context says `blinded`, so a blinded reader's answer does not even name those fields."""

    REFERENCE_STANDARD = ("bone_status", "qct", "exclusions")

    study_id = serializers.CharField(source="patient.study_id")
    sex = serializers.CharField(source="patient.sex")
    birth_year = serializers.IntegerField(source="patient.birth_year", allow_null=True)
    bone_status = serializers.CharField(required=False, help_text=BLINDED_NOTE)
    volume_sha256 = serializers.CharField(
        required=False,
        help_text="The stored volume's SHA-256; absent for readers, "
        "to whom a file name or hash is of no use.",
    )
    qct = QCTOutputSerializer(required=False, allow_null=True, help_text=BLINDED_NOTE)
    exclusions = ExclusionOutputSerializer(many=True, required=False, help_text=BLINDED_NOTE)

    class Meta:
        model = Case
        fields = [
            "id",
            "study_id",
            "sex",
            "birth_year",
            "exam_datetime",
            "scanner_model",
            "manufacturer",
            "kvp",
            "slice_thickness_mm",
            "spacing",
            "size",
            "origin",
            "direction",
            "dlp_mgycm",
            "effective_dose_msv",
            "volume_sha256",
            "source",
            "bone_status",
            "qct",
            "exclusions",
            "import_report",
            "created_at",
        ]

    def to_representation(self, case: Case) -> dict:
        data = super().to_representation(case)
        if self.context.get("blinded"):
            for name in self.REFERENCE_STANDARD:
                data.pop(name, None)
        request = self.context.get("request")
        # A reader needs no file hash: it names the stored volume's folder. (Without a request in the
        # context the caller is the import API, which only coordinators and admins reach.)
        if request is not None and not has_role(request.user, *FILE_HASH_ROLES):
            data.pop("volume_sha256", None)
        return data


def blinding_context(request) -> dict:
    return {"blinded": not sees_reference_standard(request.user)}


class IdFilter(filters.Filter):
    field_class = IdFormField


class CaseFilter(filters.FilterSet):
    cohort = IdFilter(field_name="cohorts__id")
    split = IdFilter(field_name="split_memberships__split_id")
    subset = filters.CharFilter(field_name="split_memberships__subset")
    excluded = filters.BooleanFilter(method="filter_excluded")
    bone_status = filters.CharFilter()
    study_id = filters.CharFilter(field_name="patient__study_id", lookup_expr="icontains")

    class Meta:
        model = Case
        fields = ["bone_status"]

    # Filtering by these would tell a blinded reader the reference standard through the count.
    REFERENCE_FILTERS = ("split", "subset", "excluded", "bone_status")

    def filter_excluded(self, queryset, name, value):
        return queryset.filter(exclusions__isnull=not value).distinct()

    def filter_queryset(self, queryset):
        if not sees_reference_standard(self.request.user):
            for name in self.REFERENCE_FILTERS:
                self.form.cleaned_data.pop(name, None)
        return super().filter_queryset(queryset)


class CaseImportOutputSerializer(CaseOutputSerializer):
    created = serializers.BooleanField(
        help_text="False when the same series was stored already (nothing new)."
    )

    class Meta(CaseOutputSerializer.Meta):
        fields = [*CaseOutputSerializer.Meta.fields, "created"]


class ImportJobOutputSerializer(serializers.Serializer):
    job = JobOutputSerializer()


class CaseListApi(generics.ListAPIView):
    serializer_class = CaseOutputSerializer
    filterset_class = CaseFilter
    ordering_fields = ["id", "exam_datetime"]

    def get_queryset(self):
        return cases_visible_to(self.request.user).distinct()

    def get_serializer_context(self):
        return {**super().get_serializer_context(), **blinding_context(self.request)}


class CaseDetailApi(generics.RetrieveAPIView):
    serializer_class = CaseOutputSerializer

    def get_queryset(self):
        return cases_visible_to(self.request.user)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), **blinding_context(self.request)}


class CaseImportApi(APIView):
    """Upload one CT: NIfTI (.nii, .nii.gz) or a DICOM series as .zip. Small files import in the request
    (201 with the case); big ones become a background job (202 with the job)."""

    permission_classes = [MANAGERS]
    parser_classes = [MultiPartParser, FormParser]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CaseImportInput"

        file = serializers.FileField()
        study_id = serializers.CharField(required=False, allow_blank=True, max_length=64)
        sex = serializers.ChoiceField(choices=["M", "F", ""], required=False, allow_blank=True)
        birth_year = WholeNumberField(required=False, allow_null=True, min_value=1900, max_value=2100)
        series = serializers.CharField(
            required=False,
            allow_blank=True,
            max_length=40,
            help_text="DICOM: read this series (index or code from an import report) "
            "instead of the one the rules choose",
        )

    @extend_schema(
        request=InputSerializer,
        responses={
            201: CaseImportOutputSerializer,
            200: CaseImportOutputSerializer,
            202: ImportJobOutputSerializer,
            400: BAD_REQUEST,
            413: REFUSED,
        },
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        name = upload.name.lower()
        if not name.endswith((*NIFTI_SUFFIXES, ".zip")):
            return Response(
                {"detail": f"{upload.name}: send a NIfTI file (.nii, .nii.gz) or a DICOM series as .zip"},
                status=status.HTTP_400_BAD_REQUEST,
            )
        if upload.size > settings.IMPORT_MAX_UPLOAD_BYTES:
            return Response({"detail": f"{upload.name} is {upload.size:,} bytes, over the limit"}, status=413)
        suffix = ".nii.gz" if name.endswith(".nii.gz") else Path(name).suffix
        # Django has streamed the upload to a temporary file in blocks; it is copied block by block, and
        # only its header (or zip directory) is read here, whatever its size.
        staged = services.staging_store(upload, suffix)
        params = {k: v for k, v in data.validated_data.items() if k != "file"}
        try:
            in_memory = services.import_declared_bytes(staged)
            if in_memory > settings.IMPORT_BACKGROUND_BYTES:
                job = job_start(
                    kind=IMPORT_FILE_JOB,
                    owner=request.user,
                    params={"path": str(staged), "filename": upload.name, "subject": upload.name, **params},
                )
                return Response({"job": JobOutputSerializer(job).data}, status=status.HTTP_202_ACCEPTED)
            outcome = services.case_import(path=staged, actor=request.user, **params)
        except ImportRejected as exc:
            services.remove_quietly(staged)
            # Name the user's file, not our staging copy; the exception handler answers 400.
            raise ImportRejected(exc.message.replace(staged.name, upload.name)) from exc
        except BaseException:
            services.remove_quietly(staged)
            raise
        services.remove_quietly(staged)
        body = {**CaseOutputSerializer(outcome.case).data, "created": outcome.created}
        return Response(body, status=status.HTTP_201_CREATED if outcome.created else status.HTTP_200_OK)


class QCTImportApi(APIView):
    """Upload a QCT CSV (columns in README). Every row is checked first; any error stores nothing."""

    permission_classes = [MANAGERS]
    parser_classes = [MultiPartParser, FormParser]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "QCTImportInput"

        file = serializers.FileField(
            help_text="The CSV as a spreadsheet saves it (UTF-8, UTF-16, Latin-1; , ; or tab)."
        )
        dry_run = serializers.BooleanField(
            default=False, help_text="check every row and list each refused row and column; store nothing"
        )

    @extend_schema(
        request=InputSerializer,
        responses={
            201: inline_serializer("QCTImportOutput", {"imported": serializers.IntegerField()}),
            400: BAD_REQUEST,
            413: REFUSED,
        },
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        if upload.size > QCT_CSV_MAX_BYTES:
            return Response({"detail": f"the CSV is over {QCT_CSV_MAX_BYTES // 1024**2} MB"}, status=413)
        text = services.qct_csv_decode(upload.read())
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
        class Meta:
            ref_name = "ExclusionInput"

        reason = serializers.ChoiceField(choices=Exclusion.Reason.choices)
        note = serializers.CharField(required=False, allow_blank=True)

    @extend_schema(request=InputSerializer, responses={201: ExclusionOutputSerializer, 400: BAD_REQUEST})
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
        class Meta:
            ref_name = "CohortCreateInput"

        name = serializers.CharField(max_length=100)
        description = serializers.CharField(required=False, allow_blank=True)
        case_ids = serializers.ListField(child=IdField(), required=False)

    @extend_schema(request=InputSerializer, responses={201: CohortOutputSerializer, 400: BAD_REQUEST})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        ids = data.validated_data.get("case_ids", [])
        cases = list(Case.objects.filter(pk__in=ids))
        if len(cases) != len(set(ids)):
            return Response({"detail": "unknown case id(s)"}, status=status.HTTP_400_BAD_REQUEST)
        cohort = services.cohort_create(
            name=data.validated_data["name"],
            cases=cases,
            actor=request.user,
            description=data.validated_data.get("description", ""),
        )
        return Response(CohortOutputSerializer(cohort).data, status=status.HTTP_201_CREATED)


def _class_counts(name: str):
    return serializers.DictField(
        child=serializers.IntegerField(), help_text=f"{name}: cases per bone status class"
    )


CohortFlowOutputSerializer = inline_serializer(
    "CohortFlowOutput",
    {
        "screened": serializers.IntegerField(),
        "excluded": serializers.IntegerField(),
        "excluded_by_reason": inline_serializer(
            "ExcludedByReason",
            {
                "reason": serializers.CharField(),
                "label": serializers.CharField(),
                "count": serializers.IntegerField(),
            },
            many=True,
        ),
        "included": serializers.IntegerField(),
        "included_classes": _class_counts("included"),
        "split": inline_serializer(
            "FlowSplit",
            {
                "id": serializers.IntegerField(),
                "version": serializers.IntegerField(),
                "locked": serializers.BooleanField(),
            },
            allow_null=True,
        ),
        "subsets": inline_serializer(
            "FlowSubset",
            {
                "subset": serializers.CharField(),
                "count": serializers.IntegerField(),
                "classes": _class_counts("subset"),
            },
            many=True,
        ),
    },
)


class CohortFlowApi(APIView):
    """The study flow of a cohort in numbers (the paper's Fig. 1)."""

    permission_classes = [READERS_OF_ALL]

    @extend_schema(responses=CohortFlowOutputSerializer)
    def get(self, request, pk: int):
        return Response(cohort_flow(get_object_or_404(Cohort, pk=pk)))


class SplitOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Split
        fields = ["id", "cohort", "version", "seed", "params", "locked", "current", "created_at"]


class SplitCreateApi(APIView):
    permission_classes = [MANAGERS]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "SplitCreateInput"

        seed = WholeNumberField(default=20240101)
        test_fraction = serializers.FloatField(default=0.22, min_value=0, max_value=0.9)
        test_cutoff = serializers.DateField(required=False, allow_null=True)
        validation_fraction = serializers.FloatField(default=0.3, min_value=0.05, max_value=0.9)
        stratify = serializers.BooleanField(default=True)

    @extend_schema(request=InputSerializer, responses={201: SplitOutputSerializer, 400: BAD_REQUEST})
    def post(self, request, pk: int):
        cohort = get_object_or_404(Cohort, pk=pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with transaction.atomic():
            split = services.split_create(
                cohort=cohort, params=services.SplitParams(**data.validated_data), actor=request.user
            )
        return Response(SplitOutputSerializer(split).data, status=status.HTTP_201_CREATED)
