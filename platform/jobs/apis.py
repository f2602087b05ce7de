from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from .access import cancels_any_job
from .models import Job
from .selectors import jobs_visible_to
from .services import job_cancel


class JobOutputSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username", default=None)
    title = serializers.CharField(
        read_only=True, help_text="what a person reads: the kind's title and its subject"
    )
    data = serializers.SerializerMethodField(help_text="live data for charts (loss curves...)")

    class Meta:
        model = Job
        fields = [
            "id",
            "kind",
            "title",
            "queue",
            "status",
            "owner",
            "params",
            "progress",
            "message",
            "data",
            "result",
            "error",
            "log_tail",
            "attempts",
            "cancel_requested",
            "created_at",
            "started_at",
            "finished_at",
        ]

    def get_data(self, job: Job) -> dict:
        # The traceback of a failed job is for the log and the admin's job page, never for the API.
        return {k: v for k, v in (job.data or {}).items() if k != "traceback"}


class JobListApi(generics.ListAPIView):
    serializer_class = JobOutputSerializer
    filterset_fields = ["status", "kind"]
    queryset = Job.objects.none()  # what the schema generator sees; requests get get_queryset()

    def get_queryset(self):
        return jobs_visible_to(self.request.user)


class JobDetailApi(generics.RetrieveAPIView):
    serializer_class = JobOutputSerializer
    queryset = Job.objects.none()

    def get_queryset(self):
        return jobs_visible_to(self.request.user)


JobRefusalSerializer = inline_serializer("JobRefusal", {"detail": serializers.CharField()})


class JobCancelApi(APIView):
    @extend_schema(
        request=None,
        responses={200: JobOutputSerializer, 403: JobRefusalSerializer, 409: JobRefusalSerializer},
    )
    def post(self, request, pk: int):
        job = get_object_or_404(jobs_visible_to(request.user), pk=pk)
        if job.owner_id != request.user.pk and not cancels_any_job(request.user):
            return Response(
                {"detail": "Only the job's owner (or an admin) can cancel it."},
                status=status.HTTP_403_FORBIDDEN,
            )
        if job.is_finished:
            return Response({"detail": f"The job has already {job.status}."}, status=status.HTTP_409_CONFLICT)
        job = job_cancel(job=job, by=request.user)
        return Response(JobOutputSerializer(job).data)
