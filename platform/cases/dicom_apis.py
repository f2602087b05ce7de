"""DICOM in and out through the API: PACS search and import, and the bases of the SEG/SR download and
send endpoints that annotations and inference declare for their VOIs and predictions."""

import pydicom
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import HasRole
from accounts.roles import Role
from jobs.apis import JobOutputSerializer
from jobs.services import job_start
from osteoscreen.errors import DomainError

from . import exports
from .dicom import pacs
from .kinds import IMPORT_PACS_JOB
from .models import Case
from .validation import ImportRejected

MANAGERS = HasRole(Role.COORDINATOR, Role.ADMIN)
STAFF = HasRole(Role.COORDINATOR, Role.PI, Role.ADMIN)


def _refusal(exc: Exception) -> Response:
    code = getattr(exc, "status_code", status.HTTP_400_BAD_REQUEST)
    return Response({"detail": str(exc)}, status=code)


class PacsOutputSerializer(serializers.Serializer):
    name = serializers.CharField()
    url = serializers.CharField(help_text="without credentials")


class PacsListApi(APIView):
    """The configured PACS (names and addresses; never credentials)."""

    permission_classes = [MANAGERS]

    @extend_schema(responses=PacsOutputSerializer(many=True))
    def get(self, request):
        return Response([endpoint.public() for endpoint in pacs.pacs_endpoints()])


class StudyFoundSerializer(serializers.Serializer):
    token = serializers.CharField(
        help_text="names the study when importing it (the UID itself is never shown)"
    )
    date = serializers.CharField()
    time = serializers.CharField()
    description = serializers.CharField()
    modalities = serializers.ListField(child=serializers.CharField())
    series = serializers.IntegerField(allow_null=True)
    instances = serializers.IntegerField(allow_null=True)


class PacsSearchApi(APIView):
    """QIDO-RS: the PACS's studies by date range, modality and study description."""

    permission_classes = [MANAGERS]

    class PacsSearchInputSerializer(serializers.Serializer):
        date_from = serializers.DateField(required=False)
        date_to = serializers.DateField(required=False)
        modality = serializers.RegexField(r"^[A-Za-z]{0,8}$", required=False, allow_blank=True)
        description = serializers.CharField(required=False, allow_blank=True, max_length=64)

    @extend_schema(parameters=[PacsSearchInputSerializer], responses=StudyFoundSerializer(many=True))
    def get(self, request, name: str):
        data = self.PacsSearchInputSerializer(data=request.query_params)
        data.is_valid(raise_exception=True)
        try:
            endpoint = pacs.pacs_endpoint(name)
            found = pacs.studies_search(endpoint, **data.validated_data)
        except ImportRejected as exc:
            return _refusal(exc)
        return Response(found)


class PacsImportApi(APIView):
    """WADO-RS retrieve and import of the picked studies, as a background job (202 with the job)."""

    permission_classes = [MANAGERS]

    class PacsImportInputSerializer(serializers.Serializer):
        studies = serializers.ListField(
            child=serializers.CharField(max_length=1000), min_length=1, max_length=500
        )
        study_id = serializers.CharField(
            required=False,
            allow_blank=True,
            max_length=64,
            help_text="only for anonymised studies (no PatientID)",
        )

    @extend_schema(request=PacsImportInputSerializer, responses={202: JobOutputSerializer})
    def post(self, request, name: str):
        data = self.PacsImportInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            pacs.pacs_endpoint(name)
            for token in data.validated_data["studies"]:
                pacs.study_uid_of(token)
        except ImportRejected as exc:
            return _refusal(exc)
        job = job_start(
            kind=IMPORT_PACS_JOB,
            owner=request.user,
            params={
                "pacs": name,
                "studies": data.validated_data["studies"],
                "study_id": data.validated_data.get("study_id", ""),
            },
        )
        return Response({"job": JobOutputSerializer(job).data}, status=status.HTTP_202_ACCEPTED)


class DicomObjectApi(APIView):
    """GET: a result as a DICOM file. Subclasses say which object (`dicom_object`)."""

    permission_classes = [STAFF]
    kind = "SEG"

    def dicom_object(self, request, pk: int) -> tuple[Case, pydicom.Dataset]:
        raise NotImplementedError

    @extend_schema(responses={(200, "application/dicom"): OpenApiTypes.BINARY})
    def get(self, request, pk: int):
        try:
            case, dataset = self.dicom_object(request, pk)
        except (DomainError, ImportRejected) as exc:
            return _refusal(exc)
        return HttpResponse(
            exports.dataset_bytes(dataset),
            content_type="application/dicom",
            headers={
                "Content-Disposition": f'attachment; filename="case{case.pk}-{self.kind.lower()}-{pk}.dcm"'
            },
        )


class DicomSendApi(APIView):
    """POST {"pacs": name}: sends the result to that PACS by STOW-RS. Subclasses name the object API."""

    permission_classes = [MANAGERS]
    object_api: type[DicomObjectApi] = DicomObjectApi

    class DicomSendInputSerializer(serializers.Serializer):
        pacs = serializers.CharField(max_length=100)

    class DicomSentSerializer(serializers.Serializer):
        sent = serializers.CharField()
        pacs = serializers.CharField()

    @extend_schema(request=DicomSendInputSerializer, responses=DicomSentSerializer)
    def post(self, request, pk: int):
        data = self.DicomSendInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            case, dataset = self.object_api().dicom_object(request, pk)
            result = exports.dicom_send(
                case=case,
                dataset=dataset,
                pacs_name=data.validated_data["pacs"],
                what=self.object_api.kind,
                actor=request.user,
            )
        except (DomainError, ImportRejected) as exc:
            return _refusal(exc)
        return Response(result)
