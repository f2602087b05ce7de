from django.urls import path

from . import apis, dicom_apis

urlpatterns = [
    path("assignments/", apis.AssignmentListApi.as_view(), name="api-assignment-list"),
    path("assignments/<id:pk>/revisions/", apis.RevisionsApi.as_view(), name="api-assignment-revisions"),
    path(
        "assignments/<id:pk>/revisions/<id:revision_id>/restore/",
        apis.RevisionRestoreApi.as_view(),
        name="api-assignment-revision-restore",
    ),
    path("assignments/<id:pk>/submit/", apis.AssignmentSubmitApi.as_view(), name="api-assignment-submit"),
    path("assignments/<id:pk>/approve/", apis.ReviewApproveApi.as_view(), name="api-assignment-approve"),
    path("assignments/<id:pk>/return/", apis.ReviewReturnApi.as_view(), name="api-assignment-return"),
    path("assignments/<id:pk>/volume/", apis.VolumeMetaApi.as_view(), name="api-assignment-volume"),
    path("assignments/<id:pk>/volume.raw", apis.VolumeRawApi.as_view(), name="api-assignment-volume-raw"),
    path("assignments/<id:pk>/labelmap/", apis.LabelmapApi.as_view(), name="api-assignment-labelmap"),
    path(
        "reading/cohorts/<id:pk>/assignments/",
        apis.AssignmentsCreateForCohortApi.as_view(),
        name="api-cohort-assignments-create",
    ),
    path("agreement/", apis.AgreementListApi.as_view(), name="api-agreement-list"),
    path("revisions/<int:pk>/seg.dcm", dicom_apis.RevisionSegApi.as_view(), name="api-revision-seg"),
    path(
        "revisions/<int:pk>/seg/send/", dicom_apis.RevisionSegSendApi.as_view(), name="api-revision-seg-send"
    ),
    path(
        "cases/<int:pk>/reference-voi/seg.dcm",
        dicom_apis.ReferenceVOISegApi.as_view(),
        name="api-reference-seg",
    ),
    path(
        "cases/<int:pk>/reference-voi/seg/send/",
        dicom_apis.ReferenceVOISegSendApi.as_view(),
        name="api-reference-seg-send",
    ),
]
