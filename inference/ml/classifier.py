"""The bone-status classifier: radiomics -> RFE -> mRMR -> LASSO -> random forest, and its baseline.

Two models read a case and give the probability of normal / osteopenia / osteoporosis:

- the radiomics model (the paper's): impute -> scale -> RFE (50) -> mRMR (20) -> LASSO (15) -> random
  forest, one scikit-learn ``Pipeline`` fitted on the training split only;
- the baseline: a multinomial logistic regression on one number, the mean trabecular HU of the VOI
  (``inference.ml.radiomics.trabecular``), so the study can show what radiomics adds over plain density.

Both are ``BoneStatusModel``: the fitted pipeline with the feature names it reads, the class names, the
configuration, the library versions and the radiomics settings hash, saved and loaded as one joblib file.
Counts, hyperparameters and seeds come from ``classifier_config.yaml``.
"""

from __future__ import annotations

import platform as python_platform
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import scipy
import sklearn
import yaml
from sklearn.ensemble import RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from inference.ml.selection import LassoSelector, MRMRSelector, recursive_elimination

CONFIG_PATH = Path(__file__).with_name("classifier_config.yaml")
# The one feature the baseline reads.
BASELINE_FEATURE = "mean_trabecular_hu"
RADIOMICS_KIND = "radiomics_rf"
BASELINE_KIND = "baseline_hu"
# Bumped when the saved file's layout changes, so an old file is refused with a message, not misread.
MODEL_FILE_FORMAT = 1


# --- configuration ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RFEConfig:
    n_features: int = 50
    step: float | int = 0.1
    C: float = 1.0


@dataclass(frozen=True)
class MRMRConfig:
    n_features: int = 20
    n_neighbors: int = 3


@dataclass(frozen=True)
class LassoConfig:
    max_features: int = 15
    C_min: float = 1e-3
    C_max: float = 100.0
    C_steps: int = 41

    def C_grid(self) -> tuple[float, ...]:
        return tuple(float(c) for c in np.logspace(np.log10(self.C_min), np.log10(self.C_max), self.C_steps))


@dataclass(frozen=True)
class ForestConfig:
    n_estimators: int = 500
    max_depth: int | None = None
    min_samples_leaf: int = 2
    max_features: str | int | float = "sqrt"
    class_weight: str | None = "balanced"


@dataclass(frozen=True)
class BaselineConfig:
    C: float = 1.0


@dataclass(frozen=True)
class ClassifierConfig:
    """Everything that decides a fitted model besides the data (see classifier_config.yaml)."""

    seed: int = 0
    classes: tuple[str, ...] = ("normal", "osteopenia", "osteoporosis")
    rfe: RFEConfig = field(default_factory=RFEConfig)
    mrmr: MRMRConfig = field(default_factory=MRMRConfig)
    lasso: LassoConfig = field(default_factory=LassoConfig)
    forest: ForestConfig = field(default_factory=ForestConfig)
    baseline: BaselineConfig = field(default_factory=BaselineConfig)

    def __post_init__(self) -> None:
        object.__setattr__(self, "classes", tuple(self.classes))
        if len(self.classes) < 2 or len(set(self.classes)) != len(self.classes):
            raise ValueError(f"classes must be at least two distinct names, got {self.classes}")
        if not (self.rfe.n_features >= self.mrmr.n_features >= self.lasso.max_features >= 1):
            raise ValueError(
                "selection counts must shrink: rfe.n_features >= mrmr.n_features >= lasso.max_features >= 1, "
                f"got {self.rfe.n_features}, {self.mrmr.n_features}, {self.lasso.max_features}"
            )
        if not 0 < self.lasso.C_min < self.lasso.C_max or self.lasso.C_steps < 2:
            raise ValueError("lasso needs 0 < C_min < C_max and C_steps >= 2")
        if self.forest.n_estimators < 1 or self.forest.min_samples_leaf < 1:
            raise ValueError("forest needs n_estimators >= 1 and min_samples_leaf >= 1")
        if self.rfe.C <= 0 or self.baseline.C <= 0:
            raise ValueError("rfe.C and baseline.C must be positive")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ClassifierConfig:
        """Builds a config from a mapping (the YAML file); unknown keys raise ValueError."""
        sections = {
            "rfe": RFEConfig,
            "mrmr": MRMRConfig,
            "lasso": LassoConfig,
            "forest": ForestConfig,
            "baseline": BaselineConfig,
        }
        unknown = set(data) - set(sections) - {"seed", "classes"}
        if unknown:
            raise ValueError(f"unknown classifier config keys: {sorted(unknown)}")
        try:
            parts = {name: kind(**(data.get(name) or {})) for name, kind in sections.items()}
            return cls(
                seed=int(data.get("seed", 0)), classes=tuple(data.get("classes", cls.classes)), **parts
            )
        except TypeError as error:
            raise ValueError(f"bad classifier config: {error}") from error

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["classes"] = list(self.classes)
        return data


def load_config(path: str | Path = CONFIG_PATH) -> ClassifierConfig:
    """Reads the classifier configuration (YAML or JSON); raises ValueError on a missing or bad file."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"classifier config {path} does not exist")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise ValueError(f"classifier config {path} is not valid YAML/JSON: {error}") from error
    if not isinstance(data, Mapping):
        raise ValueError(f"classifier config {path} must be a mapping")
    return ClassifierConfig.from_dict(data)


# --- pipelines ----------------------------------------------------------------------------------------


def build_radiomics_pipeline(config: ClassifierConfig, *, n_features_in: int) -> Pipeline:
    """impute -> scale -> RFE -> mRMR -> LASSO -> random forest; counts cut to the features available."""
    rfe_count = min(config.rfe.n_features, n_features_in)
    mrmr_count = min(config.mrmr.n_features, rfe_count)
    lasso_count = min(config.lasso.max_features, mrmr_count)
    forest = config.forest
    return Pipeline(
        [
            # pyradiomics gives NaN for a few features on degenerate ROIs; the training median stands in.
            ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
            ("scale", StandardScaler()),
            ("rfe", recursive_elimination(n_features=rfe_count, step=config.rfe.step, C=config.rfe.C)),
            (
                "mrmr",
                MRMRSelector(
                    n_features=mrmr_count, n_neighbors=config.mrmr.n_neighbors, random_state=config.seed
                ),
            ),
            (
                "lasso",
                LassoSelector(
                    max_features=lasso_count, C_grid=config.lasso.C_grid(), random_state=config.seed
                ),
            ),
            (
                "forest",
                RandomForestClassifier(
                    n_estimators=forest.n_estimators,
                    max_depth=forest.max_depth,
                    min_samples_leaf=forest.min_samples_leaf,
                    max_features=forest.max_features,
                    class_weight=forest.class_weight,
                    random_state=config.seed,
                    n_jobs=1,
                    # The training cohort's honest probabilities (Table 3's training row) come from the trees
                    # that did not draw each case: the apparent ones of a forest are near 1.0 by construction.
                    oob_score=True,
                ),
            ),
        ]
    )


def build_baseline_pipeline(config: ClassifierConfig) -> Pipeline:
    """scale -> multinomial logistic regression, on the mean trabecular HU alone."""
    return Pipeline(
        [
            ("impute", SimpleImputer(strategy="median")),
            ("scale", StandardScaler()),
            ("logistic", LogisticRegression(C=config.baseline.C, max_iter=1000)),
        ]
    )


# --- the fitted model ---------------------------------------------------------------------------------


@dataclass
class BoneStatusModel:
    """A fitted bone-status model with what is needed to use and to trace it.

    ``predict_proba`` takes feature rows (mappings from feature name to value, e.g. the radiomics vector
    of a case) and returns one row of probabilities per case, columns in ``classes`` order.
    """

    kind: str
    pipeline: Pipeline
    feature_names: tuple[str, ...]
    classes: tuple[str, ...]
    config: ClassifierConfig
    versions: dict[str, str]
    settings_hash: str | None = None

    def predict_proba(self, rows: Sequence[Mapping[str, float]]) -> np.ndarray:
        return self.pipeline.predict_proba(feature_matrix(rows, self.feature_names))

    def predict(self, rows: Sequence[Mapping[str, float]]) -> list[str]:
        return [self.classes[i] for i in np.argmax(self.predict_proba(rows), axis=1)]

    def training_proba(self, rows: Sequence[Mapping[str, float]]) -> tuple[np.ndarray, np.ndarray]:
        """Probabilities of the rows this model was fitted on (the same rows, in the same order) that do
        not come from having seen them, and a mask of the rows that got such a probability.

        For the radiomics model: the forest's out-of-bag probabilities (each case scored by the trees
        whose bootstrap sample left it out). The selection steps before the forest did see every training
        case, so these are still slightly optimistic, but far from the apparent AUC of 1.0. A case every
        tree drew (vanishingly rare with hundreds of trees) keeps its apparent probability and False in
        the mask. The baseline has no out-of-bag estimate: apparent probabilities, mask all False.
        """
        apparent = self.predict_proba(rows)
        out_of_bag = self._out_of_bag_decision()
        if out_of_bag is None:
            return apparent, np.zeros(len(apparent), dtype=bool)
        if out_of_bag.shape != apparent.shape:
            raise ValueError(f"{len(rows)} rows given, but the model was fitted on {len(out_of_bag)}")
        scored = out_of_bag.sum(axis=1) > 0
        return np.where(scored[:, None], out_of_bag, apparent), scored

    def _out_of_bag_decision(self) -> np.ndarray | None:
        forest = self.pipeline.named_steps.get("forest")
        decision = getattr(forest, "oob_decision_function_", None)
        return None if decision is None else np.asarray(decision, dtype=float)

    def probabilities(self, row: Mapping[str, float]) -> dict[str, float]:
        """One case: ``{"normal": p, "osteopenia": p, "osteoporosis": p}``."""
        return dict(zip(self.classes, (float(p) for p in self.predict_proba([row])[0]), strict=True))

    def selected_features(self) -> dict[str, list[str]]:
        """Feature names kept after each selection step (empty for the baseline)."""
        if self.kind != RADIOMICS_KIND:
            return {}
        names = np.array(self.feature_names)
        kept: dict[str, list[str]] = {}
        for step in ("rfe", "mrmr", "lasso"):
            names = names[self.pipeline.named_steps[step].get_support()]
            kept[step] = names.tolist()
        return kept

    def lasso_coefficients(self) -> list[dict[str, Any]]:
        """The paper's Figure 3: each kept feature with its LASSO coefficient per class (on scaled
        features), strongest first."""
        if self.kind != RADIOMICS_KIND:
            return []
        lasso = self.pipeline.named_steps["lasso"]
        rows = [
            {
                "feature": name,
                "coefficients": {
                    self.classes[int(c)]: float(v) for c, v in zip(lasso.classes_, column, strict=True)
                },
            }
            for name, column in zip(self.selected_features()["lasso"], lasso.coef_.T, strict=True)
        ]
        return sorted(rows, key=lambda row: -max(abs(v) for v in row["coefficients"].values()))

    def save(self, path: str | Path) -> Path:
        """Writes the model, its config, feature names and versions to one joblib file."""
        path = Path(path)
        joblib.dump(
            {
                "format": MODEL_FILE_FORMAT,
                "kind": self.kind,
                "pipeline": self.pipeline,
                "feature_names": list(self.feature_names),
                "classes": list(self.classes),
                "config": self.config.as_dict(),
                "versions": dict(self.versions),
                "settings_hash": self.settings_hash,
            },
            path,
        )
        return path

    @classmethod
    def load(cls, path: str | Path) -> BoneStatusModel:
        """Reads a file written by ``save``; raises ValueError on anything else."""
        try:
            data = joblib.load(path)
        except Exception as error:
            raise ValueError(f"{path} is not a saved bone-status model: {error}") from error
        if not isinstance(data, dict) or data.get("format") != MODEL_FILE_FORMAT:
            raise ValueError(f"{path} is not a bone-status model file of format {MODEL_FILE_FORMAT}")
        return cls(
            kind=data["kind"],
            pipeline=data["pipeline"],
            feature_names=tuple(data["feature_names"]),
            classes=tuple(data["classes"]),
            config=ClassifierConfig.from_dict(data["config"]),
            versions=data["versions"],
            settings_hash=data["settings_hash"],
        )


def fit_radiomics_model(
    rows: Sequence[Mapping[str, float]],
    labels: Sequence[str],
    *,
    config: ClassifierConfig,
    feature_names: Sequence[str] | None = None,
    settings_hash: str | None = None,
) -> BoneStatusModel:
    """Fits the radiomics pipeline on training rows (feature name -> value) and class names.

    Args:
        rows: one feature mapping per training case.
        labels: the bone status of each case, names from ``config.classes``.
        config: counts, hyperparameters and seeds.
        feature_names: the columns to read, in order; default: the first row's keys.
        settings_hash: the radiomics settings the features were made with, kept for lineage.
    """
    if feature_names is None:
        feature_names = list(rows[0].keys()) if rows else []
    names = tuple(feature_names)
    X, y = feature_matrix(rows, names), encode_labels(labels, config.classes)
    with warnings.catch_warnings():
        # A case no tree left out has no out-of-bag score; training_proba says so per case.
        warnings.filterwarnings("ignore", message="Some inputs do not have OOB scores")
        pipeline = build_radiomics_pipeline(config, n_features_in=len(names)).fit(X, y)
    return BoneStatusModel(
        RADIOMICS_KIND, pipeline, names, config.classes, config, library_versions(), settings_hash
    )


def fit_baseline_model(
    mean_trabecular_hu: Sequence[float] | np.ndarray, labels: Sequence[str], *, config: ClassifierConfig
) -> BoneStatusModel:
    """Fits the baseline on the mean trabecular HU of each training case."""
    rows = [{BASELINE_FEATURE: float(hu)} for hu in mean_trabecular_hu]
    X, y = feature_matrix(rows, (BASELINE_FEATURE,)), encode_labels(labels, config.classes)
    pipeline = build_baseline_pipeline(config).fit(X, y)
    return BoneStatusModel(
        BASELINE_KIND, pipeline, (BASELINE_FEATURE,), config.classes, config, library_versions()
    )


# --- helpers ------------------------------------------------------------------------------------------


def feature_matrix(rows: Sequence[Mapping[str, float]], feature_names: Sequence[str]) -> np.ndarray:
    """Rows of feature mappings as a float matrix in ``feature_names`` order; a missing feature raises."""
    if len(rows) == 0 or len(feature_names) == 0:
        raise ValueError("need at least one case and one feature")
    matrix = np.empty((len(rows), len(feature_names)), dtype=float)
    for i, row in enumerate(rows):
        missing = [name for name in feature_names if name not in row]
        if missing:
            raise ValueError(f"case {i} lacks {len(missing)} feature(s), e.g. {missing[:3]}")
        matrix[i] = [row[name] for name in feature_names]
    return matrix


def encode_labels(labels: Sequence[str], classes: Sequence[str]) -> np.ndarray:
    """Class names as indices into ``classes``; every class must occur (a three-class fit needs all)."""
    index = {name: i for i, name in enumerate(classes)}
    unknown = sorted({label for label in labels if label not in index})
    if unknown:
        raise ValueError(f"unknown bone status label(s) {unknown}; expected {list(classes)}")
    encoded = np.array([index[label] for label in labels])
    absent = [name for i, name in enumerate(classes) if not np.any(encoded == i)]
    if absent:
        raise ValueError(f"training labels lack the class(es) {absent}")
    return encoded


def case_feature_row(side_features: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    """One case's model input from per-side vectors: ``{"left": {...}}`` -> ``{"left_<feature>": v}``."""
    return {
        f"{side}_{name}": float(value)
        for side in sorted(side_features)
        for name, value in side_features[side].items()
    }


def class_aucs(model: BoneStatusModel, rows: Sequence[Mapping[str, float]], labels: Sequence[str]) -> dict:
    """One-vs-rest ROC AUC per class of the model's probabilities (NaN for a class absent from ``labels``)."""
    return probability_aucs(model.predict_proba(rows), labels, model.classes)


def probability_aucs(proba: np.ndarray, labels: Sequence[str], classes: Sequence[str]) -> dict:
    """One-vs-rest ROC AUC per class of given probabilities (NaN for a class absent from ``labels``)."""
    y = np.array(list(labels))
    return {
        name: float(roc_auc_score(y == name, proba[:, i])) if 0 < np.sum(y == name) < len(y) else float("nan")
        for i, name in enumerate(classes)
    }


def library_versions() -> dict[str, str]:
    return {
        "python": python_platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "scikit-learn": sklearn.__version__,
        "joblib": joblib.__version__,
    }
