"""The evaluation dashboard's JSON: one API class per operation, each with its own input serializer.

The payloads are the statistics module's plain dicts (inference.ml.evaluation), documented there; they are
returned as they are rather than re-described field by field in output serializers.
"""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import HasRole
from accounts.roles import Role
from cases.models import Cohort
from inference.evaluation import selectors
from osteoscreen.api import BAD_REQUEST
from osteoscreen.parsing import IdField

DASHBOARD_READERS = HasRole(Role.PI, Role.COORDINATOR, Role.ADMIN)


class SelectionInputSerializer(serializers.Serializer):
    version = IdField()
    cohort = IdField(required=False)
    mask_source = serializers.CharField(required=False, allow_blank=True)


def _selection(data: dict, *, version_key: str = "version") -> dict:
    version = get_object_or_404(selectors.evaluable_versions(), pk=data[version_key])
    cohort = (
        get_object_or_404(Cohort, pk=data["cohort"])
        if data.get("cohort")
        else selectors.default_cohort(version)
    )
    if cohort is None:
        raise serializers.ValidationError({"cohort": "there is no cohort to evaluate on"})
    sources = selectors.mask_sources(version=version, cohort=cohort)
    requested = data.get("mask_source") or ""
    if requested and requested not in sources:
        raise serializers.ValidationError(
            {"mask_source": f"this version has predictions from {sources or 'none'}"}
        )
    mask_source = requested or (sources[0] if sources else "")
    split = selectors.evaluation_split(version=version, cohort=cohort)
    return {"version": version, "cohort": cohort, "mask_source": mask_source, "split": split}


def _payload(description: str) -> serializers.JSONField:
    return serializers.JSONField(help_text=f"{description} (inference.ml.evaluation documents its keys)")


DashboardOutputSerializer = inline_serializer(
    "DashboardOutput",
    {
        "lineage": _payload("the model version, its training split and mask source"),
        "flow": _payload("the study flow of the cohort (Fig. 1)"),
        "table1": _payload("cohort characteristics per subset (Table 1)"),
        "table2": _payload("segmentation agreement with the reference (Table 2)"),
        "classification": _payload(
            "ROC per class with DeLong CIs, Wilson CIs, confusion matrix (Table 3, Figs. 3-5)"
        ),
        "selected_features": _payload("the radiomics features the classifier kept"),
    },
)
ComparisonOutputSerializer = inline_serializer(
    "ComparisonOutput",
    {
        "version_a": serializers.IntegerField(),
        "version_b": serializers.IntegerField(),
        "cohort": serializers.IntegerField(),
        "mask_source": serializers.CharField(allow_blank=True),
        "classes": serializers.ListField(child=serializers.CharField()),
        "splits": _payload("DeLong tests of version A against version B per split and class"),
        "roc_a": _payload("version A's ROC per split and class"),
        "roc_b": _payload("version B's ROC per split and class"),
        "n_common": serializers.IntegerField(help_text="cases both versions predicted"),
        "n_only_a": serializers.IntegerField(),
        "n_only_b": serializers.IntegerField(),
    },
)


class DashboardApi(APIView):
    """GET /api/dashboard/?version=&cohort=&mask_source=: Tables 1-3, Figs. 1 and 3-5 as JSON."""

    permission_classes = [DASHBOARD_READERS]

    @extend_schema(
        parameters=[SelectionInputSerializer], responses={200: DashboardOutputSerializer, 400: BAD_REQUEST}
    )
    def get(self, request):
        params = SelectionInputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        selection = _selection(params.validated_data)
        cases = selectors.evaluation_cases(**selection)
        common = {"cohort": selection["cohort"], "split": selection["split"]}
        return Response(
            {
                "lineage": selectors.lineage(
                    version=selection["version"], mask_source=selection["mask_source"], **common
                ),
                "flow": selectors.study_flow(**common),
                "table1": selectors.cohort_characteristics(**common),
                "table2": selectors.segmentation_table(cases),
                "classification": selectors.classification_payload(cases),
                "selected_features": selectors.selected_features(selection["version"]),
                "warnings": selectors.lineage_warnings(cases),
            }
        )


class ComparisonInputSerializer(serializers.Serializer):
    version_a = IdField()
    version_b = IdField()
    cohort = IdField(required=False)
    mask_source = serializers.CharField(required=False, allow_blank=True)


class ComparisonApi(APIView):
    """GET /api/dashboard/compare/?version_a=&version_b=&cohort=: DeLong tests per split and class."""

    permission_classes = [DASHBOARD_READERS]

    @extend_schema(
        parameters=[ComparisonInputSerializer], responses={200: ComparisonOutputSerializer, 400: BAD_REQUEST}
    )
    def get(self, request):
        params = ComparisonInputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        selection = _selection(params.validated_data, version_key="version_a")
        version_b = get_object_or_404(selectors.evaluable_versions(), pk=params.validated_data["version_b"])
        cases_a = selectors.evaluation_cases(**selection)
        cases_b = selectors.evaluation_cases(**{**selection, "version": version_b})
        try:
            comparison = selectors.version_comparison(cases_a=cases_a, cases_b=cases_b)
        except selectors.ComparisonRefused as refusal:
            return Response({"detail": refusal.message}, status=refusal.status_code)
        return Response(
            {
                "version_a": selection["version"].pk,
                "version_b": version_b.pk,
                "cohort": selection["cohort"].pk,
                "mask_source": selection["mask_source"],
                **comparison,
            }
        )
