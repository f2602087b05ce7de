"""The PI's evaluation pages: dashboard (Fig. 1, Tables 1-3, Figs. 3-5), per-case predictions, version vs
version, and the printable study report. Thin: parse the selection, call the selectors, format for display.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from accounts.permissions import role_required
from accounts.roles import Role
from cases.bone_status import CLASSES
from cases.models import Cohort, Split
from cases.spreadsheet import SpreadsheetSafeWriter
from inference.evaluation import selectors
from inference.models import ModelVersion
from osteoscreen.parsing import query_id_or_404

DASHBOARD_ROLES = (Role.PI, Role.COORDINATOR, Role.ADMIN)
PREDICTIONS_PER_PAGE = 100


@dataclass(frozen=True)
class Selection:
    """What a dashboard shows: a model version's predictions on a cohort, from one kind of mask."""

    version: ModelVersion
    cohort: Cohort
    split: Split | None
    mask_source: str
    mask_sources: list[str]

    def query(self) -> str:
        return f"version={self.version.pk}&cohort={self.cohort.pk}&mask_source={self.mask_source}"


def _object_from(request, key: str, queryset, default):
    pk = query_id_or_404(request.GET, key)
    if pk is None:
        return default
    return get_object_or_404(queryset, pk=pk)


def selection_from(request, *, version_key: str = "version") -> Selection | None:
    """The selection named in the query string, or the sensible default; None when nothing is evaluable."""
    version = _object_from(request, version_key, selectors.evaluable_versions(), selectors.default_version())
    if version is None:
        return None
    cohort = _object_from(request, "cohort", Cohort.objects.all(), selectors.default_cohort(version))
    if cohort is None:
        return None
    sources = selectors.mask_sources(version=version, cohort=cohort)
    requested = request.GET.get("mask_source", "")
    mask_source = requested if requested in sources else (sources[0] if sources else "")
    return Selection(
        version, cohort, selectors.evaluation_split(version=version, cohort=cohort), mask_source, sources
    )


# --- Display helpers -------------------------------------------------------------------------------


def _number(value, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _estimate(entry: dict | None, key: str = "estimate") -> str:
    """ "0.936 (0.906–0.965)" for an estimate with its interval."""
    if entry is None:
        return "–"
    return f"{_number(entry[key])} ({_number(entry['low'])}–{_number(entry['high'])})"


def _p_value(value) -> str:
    if value is None:
        return "–"
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def table1_display(rows: list[dict]) -> list[dict]:
    """Table 1 as text cells: one line per variable (or per category), a p-value on the variable's line."""
    lines = []
    for row in rows:
        if row["kind"] == "count":
            lines.append(
                {
                    "label": "patients (n)",
                    "cells": [row["cohorts"][s] for s in selectors.SUBSETS],
                    "all": row["all"],
                    "p": "",
                    "test": "",
                }
            )
        elif row["kind"] == "continuous":
            lines.append(
                {
                    "label": row["variable"],
                    "cells": [row["cohorts"][s]["text"] for s in selectors.SUBSETS],
                    "all": row["all"]["text"],
                    "p": _p_value(row["test"]["p_value"]),
                    "test": row["test"]["test"],
                }
            )
        else:
            lines.append(
                {
                    "label": row["variable"],
                    "cells": ["" for _ in selectors.SUBSETS],
                    "all": "",
                    "p": _p_value(row["test"]["p_value"]),
                    "test": row["test"]["test"],
                }
            )
            for category in row["categories"]:

                def cell(counts, category=category):
                    percent = counts[category]["percent"]
                    return f"{counts[category]['n']} ({percent:.1f}%)" if percent is not None else "0"

                lines.append(
                    {
                        "label": f"  {category}",
                        "cells": [cell(row["cohorts"][s]) for s in selectors.SUBSETS],
                        "all": cell(row["all"]),
                        "p": "",
                        "test": "",
                        "indent": True,
                    }
                )
    return lines


def table2_display(rows: list[dict]) -> list[dict]:
    return [
        {
            "cohort": row["cohort"],
            "group": row["group"],
            "n": row["n"],
            "dice": "–"
            if row["dice_mean"] is None
            else f"{row['dice_mean']:.3f} ± {_number(row['dice_sd'])}",
            "vd": "–"
            if row["volume_difference_median"] is None
            else f"{row['volume_difference_median']:.3f} ({row['volume_difference_q1']:.3f}, {row['volume_difference_q3']:.3f})",
        }
        for row in rows
    ]


def table3_display(payload: dict, *, labels: dict[str, str]) -> list[dict]:
    return [
        {
            "split": labels[split["split"]],
            "class": entry["class"],
            "n_positive": entry["n_positive"],
            "auc": _estimate(entry["auc"], "auc"),
            "sensitivity": _estimate(entry["sensitivity"]),
            "specificity": _estimate(entry["specificity"]),
            "accuracy": _estimate(entry["accuracy"]),
        }
        for split in payload["splits"]
        for entry in split["classes"]
    ]


def roc_figure(split_payload: dict, *, title: str, label_suffix: str = "") -> dict:
    return {
        "title": title,
        "curves": [
            {
                "label": entry["class"] + label_suffix,
                "class": entry["class"],
                "auc": entry["auc"],
                "roc": entry["roc"],
            }
            for entry in split_payload["classes"]
        ],
    }


def figures(
    payload: dict, *, version: ModelVersion, flow: dict, features: list[dict], labels: dict[str, str]
) -> list[dict]:
    """Every chart on the page: id (for json_script), kind (for dashboard.js), file name and data."""
    charts = [{"id": "figure-flow", "kind": "flow", "name": "figure1-study-flow", "data": flow}]
    for split in payload["splits"]:
        name, label = split["split"], labels[split["split"]]
        charts.append(
            {
                "id": f"figure-roc-{name}",
                "kind": "roc",
                "name": f"figure5-roc-{name}",
                "data": roc_figure(split, title=f"ROC, {label} cohort (n = {split['n']}), {version}"),
            }
        )
        charts.append(
            {
                "id": f"figure-confusion-{name}",
                "kind": "confusion",
                "name": f"figure4-confusion-{name}",
                "data": {
                    "title": f"Confusion matrix, {label} cohort",
                    "classes": payload["classes"],
                    "matrix": split["confusion_matrix"],
                },
            }
        )
    if features:
        charts.append(
            {
                "id": "figure-features",
                "kind": "coefficients",
                "name": "figure3-selected-features",
                "data": {"title": f"Selected features, {version}", "features": features},
            }
        )
    return charts


def dashboard_context(selection: Selection) -> dict:
    """Everything the dashboard and the report show for one selection."""
    cases = selectors.evaluation_cases(
        version=selection.version,
        cohort=selection.cohort,
        mask_source=selection.mask_source,
        split=selection.split,
    )
    payload = selectors.classification_payload(cases)
    flow = selectors.study_flow(cohort=selection.cohort, split=selection.split)
    features = selectors.selected_features(selection.version)
    labels = selectors.subset_labels(selection.version)
    return {
        "selection": selection,
        "n_predicted": len(cases.case_ids),
        "flow": flow,
        "table1": table1_display(
            selectors.cohort_characteristics(cohort=selection.cohort, split=selection.split)
        ),
        "table2": table2_display(selectors.segmentation_table(cases)),
        "table3": table3_display(payload, labels=labels),
        "training_probabilities": selectors.training_probabilities(selection.version),
        "lineage_warnings": selectors.lineage_warnings(cases),
        "subsets": selectors.SUBSETS,
        "features": features,
        "figures": figures(payload, version=selection.version, flow=flow, features=features, labels=labels),
        "lineage": selectors.lineage(
            version=selection.version,
            cohort=selection.cohort,
            split=selection.split,
            mask_source=selection.mask_source,
        ),
    }


def _choices() -> dict:
    return {"versions": selectors.evaluable_versions(), "cohorts": Cohort.objects.all()}


# --- Pages -----------------------------------------------------------------------------------------


@role_required(*DASHBOARD_ROLES)
def dashboard(request):
    selection = selection_from(request)
    if selection is None:
        return render(request, "inference/dashboard_empty.html", _choices())
    return render(request, "inference/dashboard.html", {**_choices(), **dashboard_context(selection)})


@role_required(*DASHBOARD_ROLES)
def report(request):
    selection = selection_from(request)
    if selection is None:
        # Nothing evaluated yet is a normal state of a new study, not a missing page.
        return render(request, "inference/dashboard_empty.html", _choices())
    context = dashboard_context(selection)
    context["lineage_json"] = json.dumps(context["lineage"], indent=2, sort_keys=True, default=str)
    return render(request, "inference/report.html", context)


def _prediction_filters(request) -> dict[str, str]:
    return {key: request.GET.get(key, "") for key in selectors.PREDICTION_FILTERS}


def _filtered_rows(selection: Selection, filters: dict[str, str]) -> list[dict]:
    cases = selectors.evaluation_cases(
        version=selection.version,
        cohort=selection.cohort,
        mask_source=selection.mask_source,
        split=selection.split,
    )
    return selectors.prediction_rows(cases, filters=filters)


def _viewer_url(row: dict) -> str:
    """The case page, asked to show this prediction's mask as an overlay."""
    url = reverse("cases:detail", args=[row["case_id"]])
    return f"{url}?segmentation={row['segmentation_id']}" if row["segmentation_id"] else url


@role_required(*DASHBOARD_ROLES)
def predictions(request):
    selection = selection_from(request)
    if selection is None:
        return render(request, "inference/dashboard_empty.html", _choices())
    filters = _prediction_filters(request)
    rows = _filtered_rows(selection, filters)
    for row in rows:
        row["viewer_url"] = _viewer_url(row)
    page = Paginator(rows, PREDICTIONS_PER_PAGE).get_page(request.GET.get("page"))
    kept = "&".join(f"{k}={v}" for k, v in filters.items() if v)
    return render(
        request,
        "inference/dashboard_predictions.html",
        {
            **_choices(),
            "selection": selection,
            "filters": filters,
            "page": page,
            "n_rows": len(rows),
            "classes": CLASSES,
            "subsets": selectors.SUBSETS,
            "filter_query": kept,
        },
    )


@role_required(*DASHBOARD_ROLES)
def predictions_csv(request):
    selection = selection_from(request)
    # Before any evaluation the file holds its header alone: nothing yet, not a missing page.
    name = (
        f"predictions-v{selection.version.number}-cohort{selection.cohort.pk}"
        if selection
        else "predictions-none"
    )
    response = HttpResponse(content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    writer = SpreadsheetSafeWriter(response)
    writer.writerow(
        [
            "case_id",
            "study_id",
            "subset",
            "true_class",
            "predicted_class",
            "correct",
            *(f"p_{c}" for c in CLASSES),
            "dice",
        ]
    )
    for row in _filtered_rows(selection, _prediction_filters(request)) if selection else []:
        writer.writerow(
            [
                row["case_id"],
                row["study_id"],
                row["subset"],
                row["true_class"],
                row["predicted_class"],
                row["correct"],
                *(f"{row['probabilities'][c]:.6f}" for c in CLASSES),
                "" if row["dice"] is None else f"{row['dice']:.6f}",
            ]
        )
    return response


def comparison_context(selection_a: Selection, version_b: ModelVersion) -> dict:
    # Both versions are scored on version A's cases: same cohort, mask source and split.
    cohort, mask_source, case_split = selection_a.cohort, selection_a.mask_source, selection_a.split
    cases_a = selectors.evaluation_cases(
        version=selection_a.version, cohort=cohort, mask_source=mask_source, split=case_split
    )
    cases_b = selectors.evaluation_cases(
        version=version_b, cohort=cohort, mask_source=mask_source, split=case_split
    )
    try:
        comparison = selectors.version_comparison(cases_a=cases_a, cases_b=cases_b)
    except selectors.ComparisonRefused as refusal:
        return {"refused": refusal.message}
    rows = [
        {
            "split": split["split"],
            "class": entry["class"],
            "n_positive": entry["n_positive"],
            "auc_a": _number(entry["test"]["auc_a"]) if entry["test"] else "–",
            "auc_b": _number(entry["test"]["auc_b"]) if entry["test"] else "–",
            "difference": _estimate(
                {
                    "estimate": entry["test"]["difference"],
                    "low": entry["test"]["difference_low"],
                    "high": entry["test"]["difference_high"],
                }
            )
            if entry["test"]
            else "–",
            "p": _p_value(entry["test"]["p_value"]) if entry["test"] else "–",
            "significant": bool(entry["test"] and entry["test"]["p_value"] < 0.05),
        }
        for split in comparison["splits"]
        for entry in split["classes"]
    ]
    charts = []
    for split_a, split_b in zip(comparison["roc_a"]["splits"], comparison["roc_b"]["splits"], strict=True):
        a = roc_figure(split_a, title="", label_suffix=f" v{selection_a.version.number}")
        b = roc_figure(split_b, title="", label_suffix=f" v{version_b.number}")
        for curve in b["curves"]:
            curve["dashed"] = True
        charts.append(
            {
                "id": f"figure-compare-{split_a['split']}",
                "kind": "roc",
                "name": f"roc-v{selection_a.version.number}-vs-v{version_b.number}-{split_a['split']}",
                "data": {
                    "title": f"ROC, {split_a['split']} cohort: {selection_a.version} vs {version_b}",
                    "curves": a["curves"] + b["curves"],
                },
            }
        )
    return {"comparison": comparison, "rows": rows, "figures": charts}


@role_required(*DASHBOARD_ROLES)
def compare(request):
    selection = selection_from(request, version_key="version_a")
    if selection is None:
        return render(request, "inference/dashboard_empty.html", _choices())
    version_b = _object_from(request, "version_b", selectors.evaluable_versions(), None)
    context = {**_choices(), "selection": selection, "version_b": version_b}
    if version_b is not None:
        context.update(comparison_context(selection, version_b))
    return render(request, "inference/dashboard_compare.html", context)
