"""The reading API: one class per operation, each with its own input and output serializers.

Every endpoint that can reveal a mask goes through `_assignment_with_masks`, which applies the blinding
rule of selectors.may_see_masks. An assignment the caller may not know of answers 404, one whose masks
the caller may not see answers 403.
"""

from __future__ import annotations

import time

from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import HasRole
from accounts.roles import Role, has_role
from cases.file_responses import stored_file_response
from cases.models import Cohort
from osteoscreen.api import BAD_REQUEST, BINARY, NO_CONTENT, REFUSED
from osteoscreen.parsing import ID_MAX, IdField, InvalidNumber, WholeNumberField, parse_id, parse_int

from . import selectors, services
from .labelmaps import LabelBox, LabelmapInvalid, labelmap_from_nifti_path, raw_gzip_bytes
from .models import AgreementResult, Assignment, VOIRevision

COORDINATORS = HasRole(Role.COORDINATOR, Role.ADMIN)
LABELMAP_ENCODING_HEADER = "X-Labelmap-Encoding"
# A labelmap is read whole into the web worker's memory to be checked. The viewer's gzip uploads take a
# few MB even for a 512 x 512 x 600 grid; this bound keeps a hostile or uncompressed upload out.
LABELMAP_MAX_UPLOAD_BYTES = 64 * 1024**2


class OctetStreamRenderer(BaseRenderer):
    """Lets a client that asks for binary (Accept: application/octet-stream) reach the binary endpoints."""

    media_type = "application/octet-stream"
    format = "bin"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data if isinstance(data, bytes) else JSONRenderer().render(data)


class AnnotationApi(APIView):
    """Base of the reading API. The services' refusals (AnnotationError, a DomainError) reach the client
    through the one exception handler, osteoscreen.exceptions."""


def _assignment_known(request, pk: int) -> Assignment:
    assignment = get_object_or_404(
        Assignment.objects.select_related("case__patient", "current_revision"), pk=pk
    )
    if not selectors.assignment_visible_to(request.user, assignment):
        raise NotFound("No such assignment.")
    return assignment


def _assignment_with_masks(request, pk: int) -> Assignment:
    assignment = _assignment_known(request, pk)
    if not selectors.may_see_masks(request.user, assignment):
        raise PermissionDenied(
            "You may see this assignment's status but not its VOI (coordinators never see masks; "
            "readers are blinded to each other's VOIs until both have submitted)."
        )
    return assignment


# --- assignments --------------------------------------------------------------------------------------


class AssignmentOutputSerializer(serializers.ModelSerializer):
    study_id = serializers.CharField(source="case.patient.study_id")
    reader = serializers.CharField(source="reader.username")
    current_revision_number = serializers.IntegerField(
        source="current_revision.number", default=None, allow_null=True
    )
    viewer_url = serializers.SerializerMethodField()

    class Meta:
        model = Assignment
        fields = [
            "id", "case_id", "study_id", "cohort_id", "reader", "study_role", "status", "current_revision_id",
            "current_revision_number", "created_at", "updated_at", "submitted_at", "viewer_url",
        ]  # fmt: skip

    def get_viewer_url(self, assignment: Assignment) -> str:
        return reverse("annotations:viewer", args=[assignment.pk])


class AssignmentListApi(AnnotationApi):
    """GET /api/assignments/: the caller's own assignments; coordinators add ?cohort=<id> for a cohort's."""

    class FilterSerializer(serializers.Serializer):
        cohort = IdField(required=False)

    @extend_schema(
        parameters=[FilterSerializer],
        responses={200: AssignmentOutputSerializer(many=True), 400: BAD_REQUEST},
    )
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        cohort_id = filters.validated_data.get("cohort")
        if cohort_id is not None and has_role(request.user, *selectors.STATUS_ROLES):
            assignments = selectors.assignments_of_cohort(get_object_or_404(Cohort, pk=cohort_id))
        else:
            assignments = selectors.assignments_of_reader(request.user)
            if cohort_id is not None:
                assignments = assignments.filter(cohort_id=cohort_id)
        return Response(AssignmentOutputSerializer(assignments, many=True).data)


class AssignmentsCreateForCohortApi(AnnotationApi):
    """POST /api/reading/cohorts/<id>/assignments/ (coordinators): create the cohort's reading."""

    permission_classes = [COORDINATORS]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CohortAssignmentsInput"

        primary_reader = IdField()
        second_reader = IdField()
        interobserver_count = WholeNumberField(min_value=0, default=services.DEFAULT_INTEROBSERVER_COUNT)
        seed = WholeNumberField(default=0)

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CohortAssignmentsOutput"

        created = serializers.IntegerField()
        interobserver_cases = serializers.ListField(child=serializers.IntegerField())

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer, 400: BAD_REQUEST})
    def post(self, request, pk: int):
        from django.contrib.auth import get_user_model

        cohort = get_object_or_404(Cohort, pk=pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        users = get_user_model().objects
        created = services.assignments_create_for_cohort(
            cohort=cohort,
            primary_reader=get_object_or_404(users, pk=data.validated_data["primary_reader"]),
            second_reader=get_object_or_404(users, pk=data.validated_data["second_reader"]),
            created_by=request.user,
            interobserver_count=data.validated_data["interobserver_count"],
            seed=data.validated_data["seed"],
        )
        interobserver = sorted(
            {a.case_id for a in created if a.study_role == Assignment.StudyRole.INTEROBSERVER}
        )
        output = {"created": len(created), "interobserver_cases": interobserver}
        return Response(self.OutputSerializer(output).data, status=status.HTTP_201_CREATED)


class VOIWarningSerializer(serializers.Serializer):
    """A plausibility warning of a VOI (annotations/voi_checks.py): it does not stop a submit or approval."""

    code = serializers.ChoiceField(choices=["empty", "small", "large", "edge"])
    side = serializers.ChoiceField(choices=["left", "right"])
    message = serializers.CharField()


class AssignmentSubmitApi(AnnotationApi):
    """POST /api/assignments/<id>/submit/: the answer lists the submitted VOI's plausibility warnings (an
    empty side, a side under 20 or over 400 cm3, a VOI touching the volume's edge); they do not stop it.
    Each revision in GET .../revisions/ carries the same list, to look at before submitting."""

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "AssignmentStatus"

        status = serializers.CharField()
        warnings = VOIWarningSerializer(many=True)

    @extend_schema(request=None, responses={200: OutputSerializer, 409: REFUSED})
    def post(self, request, pk: int):
        assignment = services.assignment_submit(assignment=_assignment_known(request, pk), user=request.user)
        warnings = selectors.revision_warnings(assignment.current_revision)
        output = {"status": assignment.status, "warnings": [w.as_dict() for w in warnings]}
        return Response(self.OutputSerializer(output).data)


# --- revisions ----------------------------------------------------------------------------------------


class RevisionOutputSerializer(serializers.ModelSerializer):
    based_on: serializers.PrimaryKeyRelatedField = serializers.PrimaryKeyRelatedField(read_only=True)
    restored_from: serializers.PrimaryKeyRelatedField = serializers.PrimaryKeyRelatedField(read_only=True)
    created_by = serializers.CharField(source="created_by.username")
    warnings = serializers.SerializerMethodField()

    class Meta:
        model = VOIRevision
        fields = [
            "id", "number", "based_on", "created_at", "created_by", "edit_count", "seconds_spent", "voxels",
            "volume_cm3", "restored_from", "labelmap_sha256", "warnings",
        ]  # fmt: skip

    @extend_schema_field(VOIWarningSerializer(many=True))
    def get_warnings(self, revision: VOIRevision) -> list[dict]:
        return [w.as_dict() for w in selectors.revision_warnings(revision)]


class RevisionListApi(AnnotationApi):
    """GET /api/assignments/<id>/revisions/"""

    @extend_schema(responses=RevisionOutputSerializer(many=True))
    def get(self, request, pk: int):
        assignment = _assignment_with_masks(request, pk)
        revisions = selectors.revisions_of(assignment).select_related("created_by")
        return Response(RevisionOutputSerializer(revisions, many=True).data)


class RevisionCreateApi(AnnotationApi):
    """POST /api/assignments/<id>/revisions/ (multipart): 201, 400 (bad labelmap) or 409 (stale base).

    The labelmap is a ".box.gz" file (the labelled box, with box_offset and box_size "x,y,z" in voxels),
    a ".raw.gz" file (the whole grid) or a NIfTI mask. The answer's Server-Timing header gives the time
    the server spent on the save."""

    parser_classes = [MultiPartParser, FormParser]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "RevisionCreateInput"

        base_revision = serializers.CharField(required=False, allow_blank=True, default="")
        labelmap = serializers.FileField()
        edit_count = WholeNumberField(min_value=0, default=0)
        seconds_spent = serializers.FloatField(min_value=0.0, default=0.0)
        box_offset = serializers.CharField(required=False, allow_blank=True, default="")
        box_size = serializers.CharField(required=False, allow_blank=True, default="")

        def validate(self, attrs):
            offset, size = attrs.pop("box_offset"), attrs.pop("box_size")
            attrs["box"] = None
            if offset or size:
                try:
                    attrs["box"] = LabelBox.parse(offset=offset, size=size)
                except LabelmapInvalid as error:
                    raise serializers.ValidationError({"labelmap": str(error)}) from error
            return attrs

        def validate_base_revision(self, value: str) -> int | None:
            if value.strip() in ("", "null"):
                return None
            try:
                return parse_id(value.strip(), name="base_revision")
            except InvalidNumber as error:
                raise serializers.ValidationError("base_revision must be a revision id or empty.") from error

    @extend_schema(
        request=InputSerializer,
        responses={201: RevisionOutputSerializer, 400: BAD_REQUEST, 409: REFUSED, 413: REFUSED},
    )
    def post(self, request, pk: int):
        started = time.perf_counter()
        assignment = _assignment_known(request, pk)
        data = self.InputSerializer(data=request.data)
        if not data.is_valid():
            return Response({"detail": _first_error(data.errors), "errors": data.errors}, status=400)
        upload = data.validated_data["labelmap"]
        if upload.size > LABELMAP_MAX_UPLOAD_BYTES:
            return Response(
                {
                    "detail": f"the labelmap is {upload.size:,} bytes, over the limit of "
                    f"{LABELMAP_MAX_UPLOAD_BYTES:,}; send it compressed (.raw.gz, .nii.gz)"
                },
                status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            )
        received = time.perf_counter()
        revision = services.revision_save(
            assignment=assignment,
            user=request.user,
            content=upload.read(),
            filename=upload.name or "",
            base_revision_id=data.validated_data["base_revision"],
            edit_count=data.validated_data["edit_count"],
            seconds_spent=data.validated_data["seconds_spent"],
            box=data.validated_data["box"],
        )
        response = Response(RevisionOutputSerializer(revision).data, status=status.HTTP_201_CREATED)
        saved = time.perf_counter()
        response["Server-Timing"] = (
            f"receive;dur={(received - started) * 1000:.1f}, save;dur={(saved - received) * 1000:.1f}, "
            f"total;dur={(saved - started) * 1000:.1f}"
        )
        return response


class RevisionsApi(RevisionListApi, RevisionCreateApi):
    """GET and POST /api/assignments/<id>/revisions/: one path, one class, so the schema sees both."""


class RevisionRestoreApi(AnnotationApi):
    """POST /api/assignments/<id>/revisions/<revision_id>/restore/: a new revision, copy of that one."""

    @extend_schema(request=None, responses={201: RevisionOutputSerializer, 409: REFUSED})
    def post(self, request, pk: int, revision_id: int):
        assignment = _assignment_known(request, pk)
        revision = selectors.revision_of(assignment, revision_id=revision_id)
        if revision is None:
            raise NotFound("This assignment has no such revision.")
        restored = services.revision_restore(assignment=assignment, user=request.user, revision=revision)
        return Response(RevisionOutputSerializer(restored).data, status=status.HTTP_201_CREATED)


def _first_error(errors: dict) -> str:
    field, messages = next(iter(errors.items()))
    return f"{field}: {messages[0]}"


# --- volumes and labelmaps ------------------------------------------------------------------------------


class VolumeMetaApi(AnnotationApi):
    """GET /api/assignments/<id>/volume/: the case grid and where to fetch its voxels."""

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "VolumeMeta"

        size = serializers.ListField(child=serializers.IntegerField())
        spacing = serializers.ListField(child=serializers.FloatField())
        origin = serializers.ListField(child=serializers.FloatField())
        direction = serializers.ListField(child=serializers.FloatField())
        dtype = serializers.CharField()
        study_id = serializers.CharField()
        raw_url = serializers.CharField()

    @extend_schema(responses=OutputSerializer)
    def get(self, request, pk: int):
        assignment = _assignment_with_masks(request, pk)
        case = assignment.case
        meta = {
            "size": case.size, "spacing": case.spacing, "origin": case.origin, "direction": case.direction,
            "dtype": "int16", "study_id": case.patient.study_id,
            "raw_url": reverse("api-assignment-volume-raw", args=[assignment.pk]),
        }  # fmt: skip
        return Response(self.OutputSerializer(meta).data)


class VolumeRawApi(AnnotationApi):
    """GET /api/assignments/<id>/volume.raw: int16 little-endian HU, x fastest, from the cached sidecar.

    A single byte range (`Range: bytes=a-b`) answers 206 with just those bytes: the page asks for the
    slice it opens on first, and draws it while the whole volume is still on the wire."""

    renderer_classes = [OctetStreamRenderer, JSONRenderer]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "Range",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                required=False,
                description="One byte range, `bytes=first-last`",
            )
        ],
        responses={200: BINARY, 206: BINARY},
    )
    def get(self, request, pk: int):
        assignment = _assignment_with_masks(request, pk)
        path = selectors.case_raw_volume_path(assignment.case)
        wanted = _byte_range(request.headers.get("Range", ""), size=path.stat().st_size)
        response: HttpResponseBase
        if wanted is not None:
            start, end = wanted
            with path.open("rb") as file:
                file.seek(start)
                response = HttpResponse(
                    file.read(end - start + 1), status=206, content_type="application/octet-stream"
                )
            response["Content-Range"] = f"bytes {start}-{end}/{path.stat().st_size}"
        else:
            response = stored_file_response(path)
        response["Accept-Ranges"] = "bytes"
        response["Cache-Control"] = "private, max-age=86400"
        return response


def _byte_range(header: str, *, size: int) -> tuple[int, int] | None:
    """(first, last) byte of a single satisfiable 'bytes=a-b' range, else None (the whole file is sent)."""
    unit, _, spec = header.partition("=")
    if unit.strip() != "bytes" or "," in spec:
        return None
    first, _, last = spec.strip().partition("-")
    try:
        start = parse_int(first.strip(), name="range start", minimum=0, maximum=ID_MAX)
        end = min(
            parse_int(last.strip(), name="range end", minimum=0, maximum=ID_MAX)
            if last.strip()
            else size - 1,
            size - 1,
        )
    except InvalidNumber:
        return None
    return (start, end) if start <= end else None


class LabelmapApi(AnnotationApi):
    """GET /api/assignments/<id>/labelmap/?revision=<id>|current|start: gzip uint8 labels or 204."""

    renderer_classes = [OctetStreamRenderer, JSONRenderer]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "revision",
                OpenApiTypes.STR,
                required=False,
                description="A revision id, `current` (the default) or `start`",
            )
        ],
        responses={200: BINARY, 204: NO_CONTENT, 400: REFUSED},
    )
    def get(self, request, pk: int):
        assignment = _assignment_with_masks(request, pk)
        wanted = request.query_params.get("revision", "current")
        if wanted == "start":
            return self._start(assignment)
        if wanted == "current":
            revision = assignment.current_revision
        else:
            try:
                revision_id = parse_id(wanted, name="revision")
            except InvalidNumber:
                return Response(
                    {"detail": "revision must be a revision id, 'current' or 'start'."}, status=400
                )
            revision = selectors.revision_of(assignment, revision_id=revision_id)
            if revision is None:
                raise NotFound("This assignment has no such revision.")
        if revision is None:
            return HttpResponse(status=status.HTTP_204_NO_CONTENT)
        response = stored_file_response(revision.viewer_labelmap)
        response[LABELMAP_ENCODING_HEADER] = "gzip"
        response["X-Revision-Id"] = str(revision.pk)
        response["X-Revision-Number"] = str(revision.number)
        return response

    def _start(self, assignment: Assignment):
        # The starting point is the active model's prediction, never another reader's VOI.
        path = selectors.start_labelmap_path(assignment.case)
        if path is None:
            return HttpResponse(status=status.HTTP_204_NO_CONTENT)
        labels = labelmap_from_nifti_path(str(path), grid=selectors.case_grid(assignment.case))
        response = HttpResponse(raw_gzip_bytes(labels), content_type="application/octet-stream")
        response[LABELMAP_ENCODING_HEADER] = "gzip"
        return response


# --- review -------------------------------------------------------------------------------------------


class ReviewOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    decision = serializers.CharField()
    comment = serializers.CharField()
    revision = serializers.IntegerField(source="revision_id")
    status = serializers.CharField(source="assignment.status")
    # The reviewed VOI's plausibility warnings (the same as its reader saw on submitting).
    warnings = serializers.SerializerMethodField()

    @extend_schema_field(VOIWarningSerializer(many=True))
    def get_warnings(self, review) -> list[dict]:
        return [w.as_dict() for w in selectors.revision_warnings(review.revision)]


class ReviewApproveApi(AnnotationApi):
    """POST /api/assignments/<id>/approve/ (senior reader): the VOI becomes the case's reference."""

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ReviewApproveInput"

        comment = serializers.CharField(required=False, allow_blank=True, default="")

    @extend_schema(
        request=InputSerializer, responses={200: ReviewOutputSerializer, 400: BAD_REQUEST, 409: REFUSED}
    )
    def post(self, request, pk: int):
        assignment = _assignment_with_masks(request, pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        review = services.review_approve(
            assignment=assignment, reviewer=request.user, comment=data.validated_data["comment"]
        )
        return Response(ReviewOutputSerializer(review).data)


class ReviewReturnApi(AnnotationApi):
    """POST /api/assignments/<id>/return/ (senior reader): back to the reader with a comment."""

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ReviewReturnInput"

        comment = serializers.CharField()

    @extend_schema(
        request=InputSerializer, responses={200: ReviewOutputSerializer, 400: BAD_REQUEST, 409: REFUSED}
    )
    def post(self, request, pk: int):
        assignment = _assignment_with_masks(request, pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        review = services.review_return(
            assignment=assignment, reviewer=request.user, comment=data.validated_data["comment"]
        )
        return Response(ReviewOutputSerializer(review).data)


# --- agreement ----------------------------------------------------------------------------------------


class AgreementResultOutputSerializer(serializers.ModelSerializer):
    study_id = serializers.CharField(source="case.patient.study_id")

    class Meta:
        model = AgreementResult
        fields = [
            "id", "case_id", "study_id", "cohort_id", "first_revision_id", "second_revision_id", "dice",
            "dice_overall", "hd95_mm", "assd_mm", "volume_difference_cm3", "per_label", "computed_at",
        ]  # fmt: skip


class AgreementListApi(AnnotationApi):
    """GET /api/agreement/?cohort=<id>[&threshold=0.95]: per-case agreement, mean +/- SD, flagged cases."""

    class FilterSerializer(serializers.Serializer):
        cohort = IdField(required=False)
        threshold = serializers.FloatField(
            required=False, min_value=0.0, max_value=1.0, default=selectors.DEFAULT_DICE_THRESHOLD
        )

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "AgreementSummary"

        threshold = serializers.FloatField()
        count = serializers.IntegerField()
        mean_dice = serializers.FloatField(allow_null=True)
        sd_dice = serializers.FloatField(allow_null=True)
        metric_means = serializers.DictField(child=serializers.FloatField(allow_null=True))
        flagged_case_ids = serializers.ListField(child=serializers.IntegerField())
        results = AgreementResultOutputSerializer(many=True)

    @extend_schema(parameters=[FilterSerializer], responses={200: OutputSerializer, 400: BAD_REQUEST})
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        cohort_id = filters.validated_data.get("cohort")
        cohort = get_object_or_404(Cohort, pk=cohort_id) if cohort_id is not None else None
        summary = selectors.agreement_summary(
            results=selectors.agreement_results(cohort=cohort, user=request.user),
            threshold=filters.validated_data["threshold"],
        )
        output = {
            "threshold": summary.threshold,
            "count": len(summary.rows),
            "mean_dice": summary.mean_dice,
            "sd_dice": summary.sd_dice,
            "metric_means": summary.metric_means,
            "flagged_case_ids": [r.case_id for r in summary.flagged],
            "results": summary.rows,
        }
        return Response(self.OutputSerializer(output).data)
