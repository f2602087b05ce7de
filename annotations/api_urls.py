from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from . import apis, dicom_apis


def by_method(**views):
    """One URL, one API class per HTTP method (the contract puts list and create on the same path)."""
    handlers = {method.upper(): view.as_view() for method, view in views.items()}

    # DRF's session authentication still enforces CSRF inside each API class.
    @csrf_exempt
    def dispatch(request, *args, **kwargs):
        handler = handlers.get(request.method, handlers[next(iter(handlers))])
        return handler(request, *args, **kwargs)

    return dispatch


urlpatterns = [
    path("assignments/", apis.AssignmentListApi.as_view(), name="api-assignment-list"),
    path(
        "assignments/<int:pk>/revisions/",
        by_method(get=apis.RevisionListApi, post=apis.RevisionCreateApi),
        name="api-assignment-revisions",
    ),
    path(
        "assignments/<int:pk>/revisions/<int:revision_id>/restore/",
        apis.RevisionRestoreApi.as_view(),
        name="api-assignment-revision-restore",
    ),
    path("assignments/<int:pk>/submit/", apis.AssignmentSubmitApi.as_view(), name="api-assignment-submit"),
    path("assignments/<int:pk>/approve/", apis.ReviewApproveApi.as_view(), name="api-assignment-approve"),
    path("assignments/<int:pk>/return/", apis.ReviewReturnApi.as_view(), name="api-assignment-return"),
    path("assignments/<int:pk>/volume/", apis.VolumeMetaApi.as_view(), name="api-assignment-volume"),
    path("assignments/<int:pk>/volume.raw", apis.VolumeRawApi.as_view(), name="api-assignment-volume-raw"),
    path("assignments/<int:pk>/labelmap/", apis.LabelmapApi.as_view(), name="api-assignment-labelmap"),
    path(
        "reading/cohorts/<int:pk>/assignments/",
        apis.AssignmentsCreateForCohortApi.as_view(),
        name="api-cohort-assignments-create",
    ),
    path("agreement/", apis.AgreementListApi.as_view(), name="api-agreement-list"),
    path("revisions/<int:pk>/seg.dcm", dicom_apis.RevisionSegApi.as_view(), name="api-revision-seg"),
    path("revisions/<int:pk>/seg/send/", dicom_apis.RevisionSegSendApi.as_view(), name="api-revision-seg-send"),
    path("cases/<int:pk>/reference-voi/seg.dcm", dicom_apis.ReferenceVOISegApi.as_view(), name="api-reference-seg"),
    path("cases/<int:pk>/reference-voi/seg/send/", dicom_apis.ReferenceVOISegSendApi.as_view(),
         name="api-reference-seg-send"),
]
