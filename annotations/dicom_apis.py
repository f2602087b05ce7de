"""Reader VOIs as DICOM Segmentations: any revision, and a case's approved reference VOI; downloaded
(coordinators, PIs, admins: readers stay blinded) or sent to a PACS."""

from pathlib import Path

from django.shortcuts import get_object_or_404

from cases.dicom.export import Producer
from cases.dicom_apis import DicomObjectApi, DicomSendApi
from cases.exports import voi_segmentation
from cases.models import Case

from .models import ReferenceVOI, VOIRevision


class RevisionSegApi(DicomObjectApi):
    """One saved VOI revision of a reader as a DICOM SEG."""

    kind = "SEG"

    def dicom_object(self, request, pk: int):
        revision = get_object_or_404(VOIRevision.objects.select_related("assignment__case"), pk=pk)
        case = revision.assignment.case
        return case, voi_segmentation(
            case=case,
            labels_path=Path(revision.labelmap.path),
            producer=Producer(manual=True, name="reader VOI"),
            description=f"Reader VOI revision {revision.number}",
        )


class ReferenceVOISegApi(DicomObjectApi):
    """The case's current reference VOI (approved by a senior reader) as a DICOM SEG; `pk` is the case."""

    kind = "SEG"

    def dicom_object(self, request, pk: int):
        case = get_object_or_404(Case, pk=pk)
        reference = get_object_or_404(
            ReferenceVOI.objects.select_related("revision"), case=case, is_current=True
        )
        return case, voi_segmentation(
            case=case,
            labels_path=Path(reference.revision.labelmap.path),
            producer=Producer(manual=True, name="reference VOI"),
            description="Reference VOI (approved)",
        )


class RevisionSegSendApi(DicomSendApi):
    object_api = RevisionSegApi


class ReferenceVOISegSendApi(DicomSendApi):
    object_api = ReferenceVOISegApi
