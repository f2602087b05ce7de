from django.urls import path

from . import apis

urlpatterns = [
    path("jobs/", apis.JobListApi.as_view(), name="api-job-list"),
    path("jobs/<id:pk>/", apis.JobDetailApi.as_view(), name="api-job-detail"),
    path("jobs/<id:pk>/cancel/", apis.JobCancelApi.as_view(), name="api-job-cancel"),
]
