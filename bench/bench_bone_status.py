"""What does radiomics texture add over mean trabecular HU for bone status (normal / osteopenia /
osteoporosis)? The baseline and the radiomics random forest, fitted and scored as the platform's
"Retrain classifier" job does, on synthetic phantom cohorts, side by side.

With the phantom's default calibration ("profile": each scanner's small fixed HU error) bone status lives
in mean HU alone, and the baseline classifies nearly perfectly. With "--calibration spread" every case
has its own HU offset and gain, as uncalibrated opportunistic CT has (the demo's setting, phantom/
scanner.py): this benchmark shows how the baseline and the forest compare there.

The two cohorts (as `manage.py load_demo` generates its own, readers left out), then the benchmark:
    PYTHONPATH=platform .venv/bin/python -m phantom --cases 60 --seed 2024 --out /tmp/bone-profile \\
        --matrix 256 --exclusion-fraction 0.12 --no-readers
    PYTHONPATH=platform .venv/bin/python -m phantom --cases 60 --seed 2024 --out /tmp/bone-spread \\
        --matrix 256 --exclusion-fraction 0.12 --no-readers --calibration spread
    OMP_NUM_THREADS=1 .venv/bin/python bench/bench_bone_status.py --cohort /tmp/bone-profile \\
        --cohort /tmp/bone-spread --workers 2
Time: about 13 CPU s a case (radiomics of both sides; the VOI is resampled to 1 mm whatever the matrix),
so some 12 CPU min per 53-case cohort: about 12 min for the two with --workers 2 on 2 idle cores. A smoke
run (its figures mean nothing): a 12-case, --matrix 64 cohort, or --limit.

What it does, per cohort, with the platform's own pure-Python pieces (no Django, no database):
- cases: the rows of manifest.csv (the first --limit only, if given) without an exclusion_reason, as the
  importer excludes them; bone status from qct.csv by cases.bone_status with the platform's default site
  rule (settings.BONE_STATUS_SITES: the lowest T-score of femoral neck and total hip);
- split: the platform's rule (cases.services.split_assign with SplitParams defaults, the seed --seed,
  2024 as load_demo uses), reproduced here because it is pure logic over (case id, exam date, status):
  the latest 22% of the cases by exam date are the test subset, the others go to training / validation
  7:3 by a seeded shuffle stratified by bone status. Case ids are the manifest order, as the import
  creates them;
- features: the phantom's reference masks (the readers' reference VOIs stand-in), both sides, as
  inference.training.features.side_features computes them: inference.ml.radiomics.extract_features with
  the repository's params.yaml plus inference.ml.radiomics.trabecular.mean_trabecular_hu per side, then
  inference.ml.classifier.case_feature_row and the mean HU over the sides (features.case_feature_row);
  a case whose mask lacks a side is left out ("no features"), as the job leaves it out;
- models: inference.ml.classifier.fit_radiomics_model / fit_baseline_model with classifier_config.yaml,
  fitted on the training subset (the job's _fit); AUCs one class against the rest by probability_aucs,
  95% DeLong CIs by inference.ml.stats.auc_with_confidence_interval where a class has at least 2 cases
  and 2 others (the dashboard's rule), and DeLong's paired test forest vs baseline on the same cases.

The table gives, per cohort, the forest's out-of-bag AUC on training (the job's training figure; the
selection steps saw those cases, so it is slightly optimistic), then the baseline, the forest and their
difference on the validation subset (the job's validation_auc) and on the date-based test subset. At
60 cases each held-out subset has about 12 cases: read the intervals, not the third decimal.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import SimpleITK as sitk

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "platform")]
# Django only so that the platform's own split rule and feature code can be imported; no database is used.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "osteoscreen.settings.test")
import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

from cases.bone_status import CLASSES, bone_status  # noqa: E402
from cases.services import SplitParams  # noqa: E402
from cases.services import split_assign as platform_split_assign  # noqa: E402
from inference.ml import stats  # noqa: E402
from inference.ml.classifier import (  # noqa: E402
    BASELINE_FEATURE,
    case_feature_row,
    fit_baseline_model,
    fit_radiomics_model,
    load_config,
    probability_aucs,
)
from inference.ml.radiomics import load_settings, shutdown_workers  # noqa: E402
from inference.training.features import side_features as platform_side_features  # noqa: E402
from voi.grid import CANONICAL_ORIENTATION  # noqa: E402
from voi.labels import SIDES  # noqa: E402

BONE_STATUS_SITES = tuple(settings.BONE_STATUS_SITES)
HELD_OUT = ("validation", "test")


@dataclass
class Case:
    pk: int
    study_id: str
    exam_datetime: dt.datetime | None
    bone_status: str
    image: Path
    mask: Path | None
    subset: str = ""
    features: dict[str, float] = field(default_factory=dict)
    trabecular_hu: float = float("nan")


# --- the cohort folder --------------------------------------------------------------------------------


def exam_datetime(text: str) -> dt.datetime | None:
    """As cases.services._manifest_metadata reads it: ISO 8601, UTC when it has no zone."""
    text = (text or "").strip()
    if not text:
        return None
    value = dt.datetime.fromisoformat(text)
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


def qct_statuses(folder: Path) -> dict[str, str]:
    """study id -> bone status from qct.csv's T-scores (the platform's site rule)."""
    path = folder / "qct.csv"
    if not path.exists():
        return {}
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))

    def t(row, site):
        raw = (row.get(f"{site}_t") or "").strip()
        return float(raw) if raw else None

    return {
        row["study_id"].strip(): bone_status({s: t(row, s) for s in BONE_STATUS_SITES}, BONE_STATUS_SITES)
        for row in rows
    }


def cohort_cases(folder: Path, limit: int | None) -> tuple[list[Case], int]:
    """The included cases (no exclusion_reason) of the manifest's first `limit` rows, and the excluded count."""
    with open(folder / "manifest.csv", newline="") as handle:
        records = list(csv.DictReader(handle))[:limit]
    statuses = qct_statuses(folder)
    cases, excluded = [], 0
    for pk, record in enumerate(records, start=1):
        if (record.get("exclusion_reason") or "").strip():
            excluded += 1
            continue
        mask = (record.get("reference_mask") or "").strip()
        cases.append(
            Case(
                pk=pk,
                study_id=record["study_id"].strip(),
                exam_datetime=exam_datetime(record.get("exam_datetime", "")),
                bone_status=statuses.get(record["study_id"].strip(), ""),
                image=folder / record["image"],
                mask=folder / mask if mask else None,
            )
        )
    return cases, excluded


def split_assign(cases: list[Case], *, seed: int) -> None:
    """Each case's subset by the platform's rule (cases.services.split_assign, SplitParams defaults with
    the seed): the latest 22 % by exam date are the test set, the rest training / validation 7:3 by a
    seeded shuffle per bone status."""
    assignment = platform_split_assign(cases, SplitParams(seed=seed))
    for case in cases:
        case.subset = assignment[case.pk]


# --- features (inference.training.features.side_features) -------------------------------------------

_SETTINGS = None


def radiomics_settings():
    global _SETTINGS
    if _SETTINGS is None:
        _SETTINGS = load_settings()  # the repository's params.yaml, as settings.RADIOMICS_PARAMS_PATH unset
    return _SETTINGS


def read_canonical(path: Path) -> sitk.Image:
    """The volume as the platform stores it: LPS (the phantom writes LPS already; this is then a no-op)."""
    image = sitk.ReadImage(str(path))
    orientation = sitk.DICOMOrientImageFilter.GetOrientationFromDirectionCosines(image.GetDirection())
    return image if orientation == CANONICAL_ORIENTATION else sitk.DICOMOrient(image, CANONICAL_ORIENTATION)


def side_features(image: sitk.Image, mask: sitk.Image, *, side: str) -> dict[str, float]:
    """The platform's features.side_features (radiomics of one side plus its mean trabecular HU), with
    its None for a non-finite value back to NaN for the model input."""
    values = platform_side_features(image, mask, side=side, settings=radiomics_settings())
    return {name: float("nan") if v is None else v for name, v in values.items()}


def case_features(image_path: Path, mask_path: Path) -> tuple[dict[str, float] | None, float, float, str]:
    """(radiomics model input, mean trabecular HU over the sides, seconds, why it failed or "")."""
    started = time.perf_counter()
    image, mask = read_canonical(image_path), read_canonical(mask_path)
    try:
        per_side = {side: side_features(image, mask, side=side) for side in SIDES}
    except ValueError as error:  # the mask has no voxel of a side
        return None, float("nan"), time.perf_counter() - started, str(error).splitlines()[0]
    radiomics = {
        side: {k: v for k, v in values.items() if k != BASELINE_FEATURE} for side, values in per_side.items()
    }
    hu = [values[BASELINE_FEATURE] for values in per_side.values()]
    return case_feature_row(radiomics), float(sum(hu) / len(hu)), time.perf_counter() - started, ""


def extract_all(cases: list[Case], *, workers: int) -> list[tuple[Case, str]]:
    """Fill each case's features (one case per process with --workers > 1); returns the cases left out."""
    left_out = [(c, "no mask") for c in cases if c.mask is None]
    todo = [c for c in cases if c.mask is not None]
    started = time.perf_counter()
    if workers > 1:
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=get_context("forkserver"))
        results = pool.map(case_features, [c.image for c in todo], [c.mask for c in todo])
    else:
        pool, results = None, (case_features(c.image, c.mask) for c in todo)
    # One line rewritten in place on a terminal; a line per case in a log.
    progress_start, progress_end = ("\r", "") if sys.stdout.isatty() else ("", "\n")
    for done, (case, (values, hu, seconds, error)) in enumerate(zip(todo, results, strict=True), start=1):
        if values is None:
            left_out.append((case, f"no features ({error})"))
        else:
            case.features, case.trabecular_hu = values, hu
        print(
            f"{progress_start}  features {done}/{len(todo)} ({case.study_id}, {seconds:.1f} s; "
            f"{time.perf_counter() - started:.0f} s in all)",
            end=progress_end,
            flush=True,
        )
    if progress_end == "":
        print(flush=True)
    if pool is not None:
        pool.shutdown()
    return left_out


# --- fitting and scoring (inference.training.classifier._fit without Django) ---------------------------


@dataclass
class Scored:
    """One model's probabilities on one subset's cases."""

    labels: list[str]
    proba: np.ndarray


def class_counts(labels) -> str:
    return "/".join(str(sum(1 for label in labels if label == name)) for name in CLASSES)


def auc_cell(scored: Scored, class_index: int) -> str:
    labels = np.array(scored.labels)
    positive = labels == CLASSES[class_index]
    n_positive, n_negative = int(positive.sum()), int((~positive).sum())
    if n_positive == 0:
        return "n/a: no case"
    if n_negative == 0:
        return "n/a: only class"
    point = probability_aucs(scored.proba, scored.labels, CLASSES)[CLASSES[class_index]]
    if n_positive < 2 or n_negative < 2:
        return f"{point:.2f} (no CI, n<2)"
    estimate = stats.auc_with_confidence_interval(positive=positive, scores=scored.proba[:, class_index])
    return f"{estimate.auc:.2f} ({estimate.low:.2f}-{estimate.high:.2f})"


def difference_cell(forest: Scored, baseline: Scored, class_index: int) -> str:
    positive = np.array(forest.labels) == CLASSES[class_index]
    if min(int(positive.sum()), int((~positive).sum())) < 2:
        return "-"
    test = stats.delong_test(
        positive=positive,
        scores_a=forest.proba[:, class_index],
        scores_b=baseline.proba[:, class_index],
    )
    return f"{test.difference:+.2f} (p {test.p_value:.2f})"


def fit_and_score(cases: list[Case]) -> tuple[list[tuple[str, str, int, str, list[str]]], str]:
    """Table rows (subset, model, n, class counts, cells) and, when a model cannot be fitted, why."""
    config = load_config()
    usable = [c for c in cases if c.features and c.bone_status in CLASSES]
    training = [c for c in usable if c.subset == "training"]
    absent = [name for name in CLASSES if not any(c.bone_status == name for c in training)]
    if absent:
        return [], (
            f"the training subset has no case of class {', '.join(absent)}: a three-class model needs "
            "every class (the platform refuses to train too); no model fitted"
        )
    labels = [c.bone_status for c in training]
    radiomics = fit_radiomics_model(
        [c.features for c in training],
        labels,
        config=config,
        feature_names=list(training[0].features),
        settings_hash=radiomics_settings().settings_hash,
    )
    baseline = fit_baseline_model([c.trabecular_hu for c in training], labels, config=config)
    out_of_bag, _ = radiomics.training_proba([c.features for c in training])
    oob = Scored(labels, out_of_bag)
    rows = [("training", "forest, out-of-bag", len(training), class_counts(labels), _cells(oob))]
    for subset in HELD_OUT:
        held = [c for c in usable if c.subset == subset]
        if not held:
            rows.append((subset, "(no case)", 0, class_counts([]), ["-"] * len(CLASSES)))
            continue
        truth = [c.bone_status for c in held]
        base = Scored(truth, baseline.predict_proba([{BASELINE_FEATURE: c.trabecular_hu} for c in held]))
        forest = Scored(truth, radiomics.predict_proba([c.features for c in held]))
        counts = class_counts(truth)
        rows.append((subset, "baseline, mean HU", len(held), counts, _cells(base)))
        rows.append((subset, "radiomics forest", len(held), counts, _cells(forest)))
        rows.append(
            (
                subset,
                "forest - baseline",
                len(held),
                counts,
                [difference_cell(forest, base, k) for k in range(len(CLASSES))],
            )
        )
    return rows, ""


def _cells(scored: Scored) -> list[str]:
    return [auc_cell(scored, k) for k in range(len(CLASSES))]


# --- the benchmark ------------------------------------------------------------------------------------


def hu_by_class(cases: list[Case]) -> str:
    parts = []
    for name in CLASSES:
        values = np.array([c.trabecular_hu for c in cases if c.features and c.bone_status == name])
        values = values[np.isfinite(values)]
        parts.append(
            f"{name} {values.mean():.0f} +/- {values.std():.0f} (n {len(values)})"
            if len(values)
            else f"{name} -"
        )
    return "; ".join(parts)


def run_cohort(folder: Path, args) -> tuple[list, str]:
    print(f"\n== {folder}", flush=True)
    if not (folder / "manifest.csv").exists():
        return [], f"{folder}/manifest.csv does not exist"
    cases, excluded = cohort_cases(folder, args.limit)
    unlabelled = sum(1 for c in cases if c.bone_status not in CLASSES)
    print(
        f"  {len(cases) + excluded} cases read, {excluded} excluded, {len(cases)} included"
        + (f" ({unlabelled} without a QCT bone status)" if unlabelled else ""),
        flush=True,
    )
    if len(cases) < 3:
        return [], f"{len(cases)} included case(s); a split needs at least 3 (the platform's rule)"
    split_assign(cases, seed=args.seed)
    print(
        "  split (seed "
        + f"{args.seed}): "
        + ", ".join(
            f"{s} {sum(1 for c in cases if c.subset == s)} "
            f"({class_counts([c.bone_status for c in cases if c.subset == s])})"
            for s in ("training", *HELD_OUT)
        )
        + f"  [counts {'/'.join(CLASSES)}]",
        flush=True,
    )
    started = time.perf_counter()
    left_out = extract_all(cases, workers=args.workers)
    print(
        f"  features of {len(cases) - len(left_out)} cases in {time.perf_counter() - started:.0f} s",
        flush=True,
    )
    for case, reason in left_out:
        print(f"  left out {case.study_id} ({case.subset}): {reason}", flush=True)
    print(f"  mean trabecular HU by class: {hu_by_class(cases)}", flush=True)
    started = time.perf_counter()
    rows, problem = fit_and_score(cases)
    if not problem:
        print(f"  models fitted and scored in {time.perf_counter() - started:.0f} s", flush=True)
    return rows, problem


def print_table(results: list[tuple[str, list, str]]) -> None:
    names = [name for name, _, _ in results]
    width = max(12, *(len(n) for n in names))
    header = f"{'cohort':{width}s}  {'subset':10s} {'model':18s} {'n':>3s} {'n/op/os':>8s}  " + "  ".join(
        f"{c:18s}" for c in CLASSES
    )
    print("\nAUC one class against the rest, 95% DeLong CI; forest - baseline: difference, DeLong p")
    print(header)
    print("-" * len(header))
    for name, rows, problem in results:
        if problem:
            print(f"{name:{width}s}  {problem}")
            continue
        for subset, model, n, counts, cells in rows:
            print(
                f"{name:{width}s}  {subset:10s} {model:18s} {n:3d} {counts:>8s}  "
                + "  ".join(f"{cell:18s}" for cell in cells)
            )
    cells = [cell for _, rows, _ in results for *_, row_cells in rows for cell in row_cells]
    if any(cell.startswith("n/a") or "no CI" in cell for cell in cells):
        print(
            "n/a: no case = the subset has no case of that class, so no AUC (too few cases: a larger "
            "cohort or --limit); only class = every case is of that class; no CI = fewer than 2 cases of "
            "the class or of the rest"
        )
    print("n/op/os: cases per class (normal / osteopenia / osteoporosis)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--cohort",
        type=Path,
        action="append",
        required=True,
        help="a phantom cohort folder; repeat to compare",
    )
    parser.add_argument("--limit", type=int, default=None, help="the manifest's first N cases only")
    parser.add_argument(
        "--workers", type=int, default=2, help="processes extracting features (one case each)"
    )
    parser.add_argument("--seed", type=int, default=2024, help="the split's seed (load_demo's: 2024)")
    args = parser.parse_args()
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    if args.limit is not None and args.limit < 1:
        parser.error("--limit must be at least 1")
    print(
        f"CPUs {len(os.sched_getaffinity(0))}, load average {os.getloadavg()[0]:.2f}; "
        f"radiomics settings {radiomics_settings().settings_hash[:12]}, classifier seed {load_config().seed}",
        flush=True,
    )
    results = []
    for folder in args.cohort:
        rows, problem = run_cohort(folder, args)
        if problem:
            print(f"  {problem}", flush=True)
        results.append((folder.name or str(folder), rows, problem))
    shutdown_workers()
    print_table(results)


if __name__ == "__main__":
    main()
