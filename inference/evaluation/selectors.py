"""Reads for the evaluation dashboards: a model version's predictions on a cohort, as arrays for
inference.ml.evaluation, and the paper's tables, flow and lineage around them.

The truth is the case's QCT bone status of record (Case.bone_status); a prediction's stored true_class
is only the fallback for a case whose status was cleared. The subsets are those of the split the version
was trained on when it belongs to the cohort, else the cohort's current split, so a version is always
judged on the cases it was (or was not) trained on.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from django.db.models import FloatField, QuerySet
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.utils import timezone

from cases.bone_status import CLASSES
from cases.models import Cohort, Split, SplitMembership
from cases.selectors import cohort_flow, current_split, split_subsets
from inference.ml import evaluation
from inference.models import FeatureVector, ModelVersion, Prediction
from osteoscreen.errors import DomainError

SUBSETS = tuple(SplitMembership.Subset.values)
# Versions that produce bone-status probabilities; the baseline (mean trabecular HU) is judged alike.
SCORED_FAMILIES = (ModelVersion.Family.CLASSIFIER, ModelVersion.Family.BASELINE)
# Versions still training or failed have no predictions worth a dashboard.
EVALUABLE_STATUSES = (ModelVersion.Status.TRAINED, ModelVersion.Status.ACTIVE, ModelVersion.Status.RETIRED)
# The automatic pipeline's masks are what a screening deployment would use, so they come first.
MASK_SOURCE_PREFERENCE = (
    FeatureVector.MaskSource.PREDICTION,
    FeatureVector.MaskSource.REFERENCE,
    FeatureVector.MaskSource.READER,
)
# Table 1's variables: (label, how to read it from a case).
CONTINUOUS_VARIABLES = (
    ("age (years)", "age"),
    ("DLP (mGy·cm)", "dlp_mgycm"),
    ("effective dose (mSv)", "effective_dose_msv"),
)
STATS_SOURCES = ("ml/stats.py", "ml/evaluation.py", "evaluation/selectors.py")


def evaluable_versions() -> QuerySet[ModelVersion]:
    return ModelVersion.objects.filter(
        family__in=SCORED_FAMILIES, status__in=EVALUABLE_STATUSES
    ).select_related("split__cohort", "parent")


def default_version() -> ModelVersion | None:
    versions = evaluable_versions()
    return (
        versions.filter(status=ModelVersion.Status.ACTIVE).first() or versions.order_by("-created_at").first()
    )


def default_cohort(version: ModelVersion | None) -> Cohort | None:
    if version is not None and version.split is not None:
        return version.split.cohort
    return Cohort.objects.order_by("pk").first()


def evaluation_split(*, version: ModelVersion, cohort: Cohort) -> Split | None:
    split = version.split
    if split is not None and split.cohort_id == cohort.pk:
        return split
    return current_split(cohort)


def mask_sources(*, version: ModelVersion, cohort: Cohort) -> list[str]:
    """The mask sources this version has predictions from on this cohort, the preferred one first."""
    present = set(
        Prediction.objects.filter(model_version=version, case__cohorts=cohort)
        .values_list("mask_source", flat=True)
        .distinct()
    )
    return [s for s in MASK_SOURCE_PREFERENCE if s in present]


@dataclass(frozen=True)
class EvaluationCases:
    """One row per predicted, included case with a known class, in case-id order."""

    case_ids: np.ndarray
    study_ids: list[str]
    true_class: np.ndarray
    probabilities: np.ndarray
    subset: np.ndarray
    dice: np.ndarray
    volume_difference_cm3: np.ndarray
    segmentation_ids: list[int | None]
    # Lineage of every model that touched each case: its subset in the split the classifier was trained
    # on ("" when not in it), and whether the segmentation model whose mask it read trained on the case.
    model_subset: np.ndarray
    segmenter_trained_on: np.ndarray
    # Cases the evaluation split puts in validation or test but the classifier trained on (possible when
    # the split shown is not the version's own): they are left out of every subset (subset "").
    n_trained_on_held_out: int = 0

    @property
    def predicted_class(self) -> np.ndarray:
        return self.probabilities.argmax(axis=1) if len(self.case_ids) else np.zeros(0, dtype=int)


def _json_number(path: str) -> Cast:
    """One number inside a JSON column, extracted by the database: decoding 10,000 small JSON documents in
    Python would cost more than all the statistics together. The last part of `path` is the JSON key, the
    rest the column, possibly across a relation ("segmentation__dice__overall"): KT() would read the
    first part as the column and the relation's id as JSON, which PostgreSQL rejects."""
    column, _, key = path.rpartition("__")
    return Cast(KeyTextTransform(key, column), FloatField())


def version_subsets(version: ModelVersion) -> dict[int, str]:
    """Case id -> subset in the split the version was trained on; {} for a version without one."""
    return split_subsets(version.split) if version.split_id else {}


def segmentation_training_cases(version_ids: set[int | None]) -> dict[int, set[int]]:
    """Segmentation version id -> the cases it trained on (the training cases its training job recorded in
    the version's lineage when it started). A dashboard's masks come from one or a few versions."""
    rows = ModelVersion.objects.filter(pk__in=[pk for pk in version_ids if pk]).values_list("pk", "lineage")
    return {
        pk: {int(row["case_id"]) for row in (lineage or {}).get("training_cases", [])} for pk, lineage in rows
    }


def evaluation_cases(
    *, version: ModelVersion, cohort: Cohort, mask_source: str, split: Split | None
) -> EvaluationCases:
    subsets = split_subsets(split) if split else {}
    own_subsets = subsets if split is not None and split.pk == version.split_id else version_subsets(version)
    numbers = {f"p_{k}": _json_number(f"probabilities__{c}") for k, c in enumerate(CLASSES)}
    numbers["dice_overall"] = _json_number("segmentation__dice__overall")
    numbers["vd_overall"] = _json_number("segmentation__volume_difference_cm3__overall")
    rows = (
        Prediction.objects.filter(
            model_version=version,
            mask_source=mask_source,
            case__cohorts=cohort,
            case__exclusions__isnull=True,
        )
        .annotate(**numbers)
        .order_by("case_id")
        .values(
            "case_id",
            "case__patient__study_id",
            "case__bone_status",
            "true_class",
            "segmentation_id",
            "segmentation__model_version_id",
            *numbers,
        )
    )
    class_index = {name: k for k, name in enumerate(CLASSES)}
    kept = [r for r in rows if class_index.get(r["case__bone_status"] or r["true_class"]) is not None]
    trained_on = segmentation_training_cases({r["segmentation__model_version_id"] for r in kept})
    model_subset = np.array([own_subsets.get(r["case_id"], "") for r in kept], dtype=object)
    shown = np.array([subsets.get(r["case_id"], "") for r in kept], dtype=object)
    trained_on_held_out = (model_subset == "training") & np.isin(shown.astype(str), ["validation", "test"])
    shown[trained_on_held_out] = ""

    def mask_value(row: dict, key: str) -> float:
        # A mask without a stored "overall" (no reference to compare with) has no place in Table 2: its
        # sides are not combined here by a second convention (voi.metrics defines "overall").
        return float("nan") if row[key] is None else row[key]

    return EvaluationCases(
        case_ids=np.array([r["case_id"] for r in kept], dtype=int),
        study_ids=[r["case__patient__study_id"] for r in kept],
        true_class=np.array(
            [class_index[r["case__bone_status"] or r["true_class"]] for r in kept], dtype=int
        ),
        probabilities=np.array(
            [[r[f"p_{k}"] or 0.0 for k in range(len(CLASSES))] for r in kept], dtype=float
        ).reshape(-1, len(CLASSES)),
        subset=shown,
        dice=np.array([mask_value(r, "dice_overall") for r in kept], dtype=float),
        volume_difference_cm3=np.array([mask_value(r, "vd_overall") for r in kept], dtype=float),
        segmentation_ids=[r["segmentation_id"] for r in kept],
        model_subset=model_subset,
        segmenter_trained_on=np.array(
            [r["case_id"] in trained_on.get(r["segmentation__model_version_id"], ()) for r in kept],
            dtype=bool,
        ),
        n_trained_on_held_out=int(trained_on_held_out.sum()),
    )


def classification_payload(cases: EvaluationCases) -> dict:
    """Table 3, Figs. 4 and 5: the statistics module's payload for these cases."""
    payload = evaluation.dashboard_payload(
        true_class=cases.true_class,
        probabilities=cases.probabilities,
        split=cases.subset.astype(str),
        class_names=CLASSES,
        split_names=SUBSETS,
    )
    return {**payload, "table3": evaluation.table3_rows(payload)}


def segmentation_table(cases: EvaluationCases) -> list[dict]:
    """Table 2 over the cases whose predicted mask has a Dice against a reference VOI."""
    has_dice = np.isfinite(cases.dice)
    return evaluation.table2_rows(
        dice=cases.dice[has_dice],
        volume_difference_cm3=cases.volume_difference_cm3[has_dice],
        cohort=cases.subset[has_dice].astype(str),
        true_class=cases.true_class[has_dice],
        cohort_names=SUBSETS,
        class_names=CLASSES,
    )


def cohort_characteristics(*, cohort: Cohort, split: Split | None) -> list[dict]:
    """Table 1: the included cases of each subset, with the paper's tests across subsets.

    Age is the examination year minus the birth year: the platform keeps no birth dates.
    """
    subsets = split_subsets(split) if split else {}
    # Plain dicts, not the query's row type: each record gains a derived "age" below.
    records: list[dict[str, Any]] = [
        dict(r)
        for r in cohort.cases.filter(exclusions__isnull=True).values(
            "pk",
            "exam_datetime",
            "patient__birth_year",
            "patient__sex",
            "bone_status",
            "dlp_mgycm",
            "effective_dose_msv",
        )
        if r["pk"] in subsets
    ]
    subset = np.array([subsets[r["pk"]] for r in records], dtype=str)
    for r in records:
        r["age"] = (
            r["exam_datetime"].year - r["patient__birth_year"]
            if r["exam_datetime"] and r["patient__birth_year"]
            else None
        )
    rows = [
        {
            "kind": "count",
            "variable": "patients",
            "cohorts": {s: int((subset == s).sum()) for s in SUBSETS},
            "all": len(records),
        }
    ]
    for label, key in CONTINUOUS_VARIABLES:
        values = np.array([np.nan if r[key] is None else r[key] for r in records], dtype=float)
        rows.append(
            {
                "kind": "continuous",
                **evaluation.table1_continuous_row(
                    name=label, values=values, cohort=subset, cohort_names=SUBSETS
                ),
            }
        )
    for label, key, categories in (
        ("sex", "patient__sex", ["M", "F"]),
        ("bone status", "bone_status", list(CLASSES)),
    ):
        rows.append(
            {
                "kind": "categorical",
                **evaluation.table1_categorical_row(
                    name=label,
                    values=np.array([r[key] or "" for r in records], dtype=str),
                    cohort=subset,
                    categories=categories,
                    cohort_names=SUBSETS,
                ),
            }
        )
    return rows


def study_flow(*, cohort: Cohort, split: Split | None) -> dict:
    """Fig. 1: screened -> excluded by reason -> included -> subsets, as the cases app counts it."""
    flow = cohort_flow(cohort, split)
    return {
        "title": f"Study flow: {cohort.name}",
        "screened": flow["screened"],
        "excluded": [{"reason": r["label"], "n": r["count"]} for r in flow["excluded_by_reason"]],
        "included": flow["included"],
        "subsets": [{"name": s["subset"], "n": s["count"]} for s in flow["subsets"]],
        "split": flow["split"],
    }


def selected_features(version: ModelVersion) -> list[dict]:
    """The selected radiomics features with their coefficients (Fig. 3), as the training job stored them:
    metrics or config "selected_features", either [{"name", "coefficient"}] or {name: coefficient}."""
    for source in (version.metrics or {}, version.config or {}):
        features = source.get("selected_features")
        if isinstance(features, dict):
            return [{"name": str(k), "coefficient": float(v)} for k, v in features.items()]
        if isinstance(features, list) and all(isinstance(f, dict) and "name" in f for f in features):
            return [
                {"name": str(f["name"]), "coefficient": float(f.get("coefficient", 0.0))} for f in features
            ]
    return []


def training_probabilities(version: ModelVersion) -> str:
    """Which probabilities the version's training-subset predictions hold: out-of-bag or apparent. The
    training job records it; versions trained before it recorded nothing and hold apparent ones."""
    return (version.metrics or {}).get("training_probabilities", evaluation.TRAINING_APPARENT)


def subset_labels(version: ModelVersion) -> dict[str, str]:
    """How Table 3 and the figures name each subset: the training row says whether it is out-of-bag or the
    model's apparent (in-sample) performance, which is no estimate of how it does on new cases."""
    out_of_bag = training_probabilities(version) == evaluation.TRAINING_OUT_OF_BAG
    training = "training (out-of-bag)" if out_of_bag else "training (apparent, in-sample)"
    return {**{s: s for s in SUBSETS}, "training": training}


def statistics_code_version() -> str:
    """A fingerprint of the code that computes the statistics, so a report says what produced it."""
    digest = hashlib.sha256()
    here = Path(__file__).resolve().parents[1]
    for name in STATS_SOURCES:
        digest.update((here / name).read_bytes())
    return "stats-" + digest.hexdigest()[:12]


def lineage(*, version: ModelVersion, cohort: Cohort, split: Split | None, mask_source: str) -> dict:
    """Everything needed to recompute a dashboard: split, versions, settings, code."""
    segmentation = version.parent
    return {
        "generated_at": timezone.now().isoformat(timespec="seconds"),
        "cohort": {"id": cohort.pk, "name": cohort.name},
        "split": None
        if split is None
        else {
            "id": split.pk,
            "version": split.version,
            "seed": split.seed,
            "params": split.params,
            "locked": split.locked,
            "is_the_versions_own": split.pk == version.split_id,
        },
        "model_version": {
            "id": version.pk,
            "family": version.family,
            "number": version.number,
            "name": version.name,
            "status": version.status,
            "config": version.config,
            "lineage": version.lineage,
        },
        "segmentation_version": None
        if segmentation is None
        else {"id": segmentation.pk, "number": segmentation.number, "lineage": segmentation.lineage},
        "mask_source": mask_source,
        "training_probabilities": training_probabilities(version),
        "statistics_code": statistics_code_version(),
    }


PREDICTION_FILTERS = ("subset", "true_class", "predicted_class", "misclassified")


def prediction_rows(cases: EvaluationCases, *, filters: dict[str, str]) -> list[dict]:
    """Per-case rows for the predictions table, filtered by subset, class and misclassification."""
    predicted = cases.predicted_class
    keep = np.ones(len(cases.case_ids), dtype=bool)
    if filters.get("subset") in SUBSETS:
        keep &= cases.subset == filters["subset"]
    for key, labels in (("true_class", cases.true_class), ("predicted_class", predicted)):
        if filters.get(key) in CLASSES:
            keep &= labels == CLASSES.index(filters[key])
    if filters.get("misclassified"):
        keep &= predicted != cases.true_class
    return [
        {
            "case_id": int(cases.case_ids[i]),
            "study_id": cases.study_ids[i],
            "subset": cases.subset[i] or "",
            "true_class": CLASSES[cases.true_class[i]],
            "predicted_class": CLASSES[predicted[i]],
            "correct": bool(predicted[i] == cases.true_class[i]),
            "probabilities": {c: float(cases.probabilities[i, k]) for k, c in enumerate(CLASSES)},
            "dice": None if not np.isfinite(cases.dice[i]) else float(cases.dice[i]),
            "mask_in_sample": bool(cases.segmenter_trained_on[i]),
            "segmentation_id": cases.segmentation_ids[i],
        }
        for i in np.flatnonzero(keep)
    ]


class ComparisonRefused(DomainError):
    """Two versions cannot be compared on any case: their splits put every shared case in different subsets."""

    status_code = 409


def comparable_cases(
    *, cases_a: EvaluationCases, cases_b: EvaluationCases
) -> tuple[np.ndarray, np.ndarray, dict]:
    """Indexes into A's and B's cases of the cases both predicted that sit in the same subset of both
    versions' own splits (a case one version trained on and the other did not would be in-sample for one
    of them), and the count of shared cases left out, by "A's subset / B's subset".

    Raises ComparisonRefused when both versions predicted cases but none is in the same subset for both.
    """
    common, in_a, in_b = np.intersect1d(cases_a.case_ids, cases_b.case_ids, return_indices=True)
    same = cases_a.model_subset[in_a] == cases_b.model_subset[in_b]
    left_out: dict[str, int] = {}
    for a, b in zip(cases_a.model_subset[in_a][~same], cases_b.model_subset[in_b][~same], strict=True):
        key = f"{a or 'not in its split'} / {b or 'not in its split'}"
        left_out[key] = left_out.get(key, 0) + 1
    if common.size and not same.any():
        raise ComparisonRefused(
            f"the two versions were trained on different splits that put all {common.size} shared cases in "
            f"different subsets (A / B: {left_out}); a case one of them trained on cannot test the other, so "
            "there is nothing to compare them on"
        )
    return in_a[same], in_b[same], left_out


def version_comparison(*, cases_a: EvaluationCases, cases_b: EvaluationCases) -> dict:
    """Two versions on the cases both predicted that sit in the same subset for both (comparable_cases),
    with the same truth and subsets (those of version A's evaluation)."""
    in_a, in_b, left_out = comparable_cases(cases_a=cases_a, cases_b=cases_b)
    common = cases_a.case_ids[in_a]
    comparison = evaluation.version_comparison_payload(
        true_class=cases_a.true_class[in_a],
        probabilities_a=cases_a.probabilities[in_a],
        probabilities_b=cases_b.probabilities[in_b],
        split=cases_a.subset[in_a].astype(str),
        class_names=CLASSES,
        split_names=SUBSETS,
    )
    truth, subset = cases_a.true_class[in_a], cases_a.subset[in_a].astype(str)
    roc_a, roc_b = (
        evaluation.dashboard_payload(
            true_class=truth, probabilities=p, split=subset, class_names=CLASSES, split_names=SUBSETS
        )
        for p in (cases_a.probabilities[in_a], cases_b.probabilities[in_b])
    )
    n_shared = int(np.intersect1d(cases_a.case_ids, cases_b.case_ids).size)
    return {
        **comparison,
        "roc_a": roc_a,
        "roc_b": roc_b,
        "n_common": int(common.size),
        "n_only_a": int(cases_a.case_ids.size - n_shared),
        "n_only_b": int(cases_b.case_ids.size - n_shared),
        "n_different_subsets": n_shared - int(common.size),
        "different_subsets": left_out,
        "warnings": list(dict.fromkeys(lineage_warnings(cases_a) + lineage_warnings(cases_b))),
    }


def lineage_warnings(cases: EvaluationCases) -> list[str]:
    """What a reader of the numbers must know about cases that a model touching them had seen: predicted
    masks of validation / test cases made by a segmentation model that trained on those cases."""
    warnings = []
    if cases.n_trained_on_held_out:
        warnings.append(
            f"{cases.n_trained_on_held_out} case(s) that this split puts in validation or test are in the training "
            "subset of the split the version was trained on: they are left out of every row."
        )
    held_out = np.isin(cases.subset.astype(str), ["validation", "test"])
    in_sample = held_out & cases.segmenter_trained_on
    if in_sample.any():
        counts = ", ".join(
            f"{int((in_sample & (cases.subset == s)).sum())} {s}"
            for s in ("validation", "test")
            if (in_sample & (cases.subset == s)).any()
        )
        warnings.append(
            f"In-sample masks: {counts} case(s) were segmented by a segmentation model that trained on them, so "
            "their Table 2 Dice and volume difference, and the classifier's inputs for them, are in-sample."
        )
    return warnings
