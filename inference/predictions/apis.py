"""A case's predictions under /api/models/cases/<id>/predictions/: its bone-status predictions and its
predicted masks, for PIs, coordinators and admins."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from cases.models import Case
from inference import selectors
from inference.training.apis import VIEWERS, ModelsApi

CasePredictionsOutputSerializer = inline_serializer(
    "CasePredictionsOutput",
    {
        "case": serializers.IntegerField(),
        "predictions": inline_serializer(
            "BoneStatusPrediction",
            {
                "id": serializers.IntegerField(),
                "model_version": serializers.IntegerField(),
                "family": serializers.CharField(),
                "number": serializers.IntegerField(),
                "status": serializers.CharField(),
                "mask_source": serializers.CharField(allow_blank=True),
                "probabilities": serializers.DictField(child=serializers.FloatField()),
                "predicted_class": serializers.CharField(),
                "true_class": serializers.CharField(allow_blank=True),
                "subset": serializers.CharField(allow_blank=True),
            },
            many=True,
        ),
        "segmentations": inline_serializer(
            "CaseSegmentation",
            {
                "id": serializers.IntegerField(),
                "model_version": serializers.IntegerField(),
                "number": serializers.IntegerField(),
                "mask_sha256": serializers.CharField(),
                "voxels": serializers.JSONField(),
                "dice": serializers.JSONField(allow_null=True),
                "volume_difference_cm3": serializers.JSONField(allow_null=True),
            },
            many=True,
        ),
    },
)


class CasePredictionsApi(ModelsApi):
    """A case's bone-status predictions and segmentations."""

    permission_classes = [VIEWERS]

    @extend_schema(responses=CasePredictionsOutputSerializer)
    def get(self, request, case_id: int):
        case = get_object_or_404(Case, pk=case_id)
        return Response(
            {
                "case": case.pk,
                "predictions": [
                    {
                        "id": p.pk,
                        "model_version": p.model_version_id,
                        "family": p.model_version.family,
                        "number": p.model_version.number,
                        "status": p.model_version.status,
                        "mask_source": p.mask_source,
                        "probabilities": p.probabilities,
                        "predicted_class": p.predicted_class,
                        "true_class": p.true_class,
                        "subset": p.subset,
                    }
                    for p in selectors.case_predictions(case)
                ],
                "segmentations": [
                    {
                        "id": s.pk,
                        "model_version": s.model_version_id,
                        "number": s.model_version.number,
                        "mask_sha256": s.mask_sha256,
                        "voxels": s.voxels,
                        "dice": s.dice,
                        "volume_difference_cm3": s.volume_difference_cm3,
                    }
                    for s in selectors.case_segmentations(case)
                ],
            }
        )
