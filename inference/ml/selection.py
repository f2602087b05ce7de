"""Feature selection steps of the bone-status classifier, as scikit-learn transformers.

The paper (Du et al. 2025) narrows 1,184 radiomics features in three steps before its random forest:
recursive feature elimination keeps 50, minimum-redundancy maximum-relevance keeps 20, LASSO keeps 15.
Each step here is a scikit-learn selector (``get_support``, ``transform``), so the whole chain is one
``Pipeline`` that is fitted on the training split only and replayed unchanged on new cases.

- ``recursive_elimination``: recursive feature elimination around an L2 logistic regression on the scaled
  features (fast, and its coefficients rank features by their linear weight for the three classes). A
  float step removes that fraction of the features still left each round (``elimination_schedule``);
  written here because scikit-learn's RFE removes a fraction of the initial count every round.
- ``MRMRSelector``: written here (no licence question), Peng, Long & Ding's "MID" criterion (IEEE TPAMI
  2005): greedily pick the feature whose mutual information with the class, minus its mean mutual
  information with the features already picked, is largest.
- ``LassoSelector``: an L1-penalised multinomial logistic regression, i.e. the LASSO for three classes at
  once. Its strength is the strongest penalty on a grid (refined by bisection) that leaves exactly
  ``max_features`` features with a non-zero coefficient for some class, so it keeps 15 whenever the
  path reaches 15 (the rule in its docstring); those features and their coefficients are the paper's
  Figure 3. (Multinomial rather than one-vs-rest: one penalty, one set of
  kept features for the three classes, which is what the random forest then reads.)
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_selection import SelectorMixin, mutual_info_classif, mutual_info_regression
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted, validate_data


def recursive_elimination(
    *, n_features: int, step: float | int = 0.1, C: float = 1.0, max_iter: int = 2000
) -> RecursiveElimination:
    """RFE to ``n_features`` with an L2 multinomial logistic regression as the ranking model.

    Args:
        n_features: features kept.
        step: features removed per round: an int, or a float in (0, 1) for that fraction of the features
            still left at the start of each round (``elimination_schedule`` gives the rounds).
        C: inverse L2 strength of the ranking model.
        max_iter: iterations of the ranking model's solver.
    """
    if n_features < 1:
        raise ValueError(f"RFE n_features must be >= 1, got {n_features}")
    if not (isinstance(step, int) and step >= 1) and not (isinstance(step, float) and 0 < step < 1):
        raise ValueError(f"RFE step must be an int >= 1 or a float in (0, 1), got {step!r}")
    return RecursiveElimination(n_features=n_features, step=step, C=C, max_iter=max_iter)


def elimination_schedule(*, n_initial: int, n_features: int, step: float | int) -> list[int]:
    """How many features each RFE round removes, from ``n_initial`` down to ``n_features``.

    A float step removes ``max(1, int(step * n_left))`` of the ``n_left`` features still in play, so rounds
    shrink as the set does (0.1 takes 1,130 features to 50 in 31 rounds, 2,446 in 38). scikit-learn's
    RFE reads a float step as ``int(step * n_initial)`` features every round instead (10 rounds of 244 from
    2,446, the last removing 200 of 250), which is why this module does not use it.

    Example:
        >>> elimination_schedule(n_initial=40, n_features=5, step=0.2)
        [8, 6, 5, 4, 3, 2, 2, 2, 1, 1, 1]
    """
    schedule, left = [], n_initial
    while left > n_features:
        per_round = step if isinstance(step, int) else max(1, int(step * left))
        schedule.append(min(per_round, left - n_features))
        left -= schedule[-1]
    return schedule


class RecursiveElimination(SelectorMixin, BaseEstimator):
    """Recursive feature elimination by the squared coefficients of a multinomial logistic regression.

    Each round refits the ranking model on the features still in play and drops the weakest, as many as
    ``elimination_schedule`` says (summed over classes, the importance scikit-learn's RFE uses).

    After ``fit``: ``support_``, ``ranking_`` (1 = kept; larger = dropped earlier, as scikit-learn's RFE)
    and ``schedule_`` (features removed per round).
    """

    def __init__(
        self, *, n_features: int = 50, step: float | int = 0.1, C: float = 1.0, max_iter: int = 2000
    ):
        self.n_features = n_features
        self.step = step
        self.C = C
        self.max_iter = max_iter

    def fit(self, X, y):
        X, y = validate_data(self, X, y)
        keep = min(self.n_features, X.shape[1])
        self.schedule_ = elimination_schedule(n_initial=X.shape[1], n_features=keep, step=self.step)
        support, ranking = np.ones(X.shape[1], dtype=bool), np.ones(X.shape[1], dtype=int)
        for removed in self.schedule_:
            remaining = np.flatnonzero(support)
            weakest = np.argsort(self._importance(X[:, remaining], y), kind="stable")[:removed]
            support[remaining[weakest]] = False
            ranking[~support] += 1
        self.support_, self.ranking_, self.n_features_ = support, ranking, keep
        return self

    def _importance(self, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        coef = LogisticRegression(C=self.C, max_iter=self.max_iter).fit(X, y).coef_
        return (np.atleast_2d(coef) ** 2).sum(axis=0)

    def _get_support_mask(self):
        check_is_fitted(self, "support_")
        return self.support_


class MRMRSelector(SelectorMixin, BaseEstimator):
    """Minimum-redundancy maximum-relevance selection (Peng et al. 2005, MID criterion).

    Args:
        n_features: features kept.
        n_neighbors: neighbours of the k-NN mutual-information estimator (scikit-learn's).
        random_state: seed of the estimator's tie-breaking noise, so a seed gives one selection.

    Example:
        >>> selector = MRMRSelector(n_features=2, random_state=0).fit(X, y)  # doctest: +SKIP
        >>> selector.selected_order_  # doctest: +SKIP
    """

    def __init__(self, *, n_features: int = 20, n_neighbors: int = 3, random_state: int | None = 0):
        self.n_features = n_features
        self.n_neighbors = n_neighbors
        self.random_state = random_state

    def fit(self, X, y):
        if self.n_features < 1:
            raise ValueError(f"mRMR n_features must be >= 1, got {self.n_features}")
        X, y = validate_data(self, X, y)
        keep = min(self.n_features, X.shape[1])
        relevance = mutual_info_classif(X, y, n_neighbors=self.n_neighbors, random_state=self.random_state)
        order = [int(np.argmax(relevance))]
        redundancy_sum = np.zeros(X.shape[1])
        while len(order) < keep:
            redundancy_sum += self._mutual_information_with(X, order[-1])
            score = relevance - redundancy_sum / len(order)
            score[order] = -np.inf
            order.append(int(np.argmax(score)))
        self.relevance_ = relevance
        self.selected_order_ = np.array(order)
        return self

    def _mutual_information_with(self, X: np.ndarray, column: int) -> np.ndarray:
        return mutual_info_regression(
            X, X[:, column], n_neighbors=self.n_neighbors, random_state=self.random_state
        )

    def _get_support_mask(self):
        check_is_fitted(self, "selected_order_")
        support = np.zeros(self.n_features_in_, dtype=bool)
        support[self.selected_order_] = True
        return support


class LassoSelector(SelectorMixin, BaseEstimator):
    """Keeps the features an L1 multinomial logistic regression gives a non-zero coefficient.

    The rule (the paper keeps exactly 15): walking ``C_grid`` from the strongest penalty, stop at the
    first C whose fit keeps at least ``max_features`` features. When it keeps more, the penalty is
    bisected (in log C, up to ``BISECTION_STEPS`` fits) between it and the previous C for a fit that keeps
    exactly ``max_features``; if none is found, the ``max_features`` features with the largest absolute
    coefficient (over the classes) at that first C are kept. Only when no C on the grid keeps
    ``max_features`` are fewer kept: those of the fit that keeps the most. (Before, the weakest penalty
    keeping *at most* ``max_features`` was used, and a grid step that jumped from 13 to 17 kept 13.)

    Args:
        max_features: the number of features kept when the path reaches it (the paper keeps 15).
        C_grid: inverse L1 strengths to walk, in any order (sorted here).
        max_iter: iterations of the saga solver.
        random_state: seed of the saga solver's sample order.

    After ``fit``: ``C_`` (chosen strength), ``coef_`` (classes x kept features, the LASSO coefficients
    of the kept features at ``C_``, Figure 3) and ``classes_``.
    """

    BISECTION_STEPS = 8

    def __init__(
        self,
        *,
        max_features: int = 15,
        C_grid: Sequence[float] = tuple(np.logspace(-3, 2, 41)),
        max_iter: int = 5000,
        random_state: int | None = 0,
    ):
        self.max_features = max_features
        self.C_grid = C_grid
        self.max_iter = max_iter
        self.random_state = random_state

    def fit(self, X, y):
        if self.max_features < 1:
            raise ValueError(f"LASSO max_features must be >= 1, got {self.max_features}")
        if len(self.C_grid) == 0 or min(self.C_grid) <= 0:
            raise ValueError("LASSO C_grid must hold positive values")
        X, y = validate_data(self, X, y)
        self.C_, model = self._path_choice(X, y)
        self.support_ = self._strongest(model)
        self.classes_ = model.classes_
        self.coef_ = model.coef_[:, self.support_]
        return self

    def _path_choice(self, X, y) -> tuple[float, LogisticRegression]:
        """The (C, fit) the class docstring's rule picks."""
        target = min(self.max_features, X.shape[1])
        weaker: float | None = None
        most: tuple[float, LogisticRegression] | None = None
        for C in sorted(self.C_grid):
            model = self._lasso(C).fit(X, y)
            kept = int(self._kept(model).sum())
            if kept == target:
                return C, model
            if kept > target:
                return self._bisect(X, y, weaker, (C, model), target) if weaker is not None else (C, model)
            if most is None or kept > int(self._kept(most[1]).sum()):
                most = (C, model)
            weaker = C
        assert most is not None, "C_grid is non-empty (checked in fit), so the path has a fit"
        return most

    def _bisect(self, X, y, low: float, high: tuple[float, LogisticRegression], target: int):
        """Between a C keeping too few and one keeping too many, look for a C keeping exactly target."""
        for _ in range(self.BISECTION_STEPS):
            middle = float(np.sqrt(low * high[0]))
            model = self._lasso(middle).fit(X, y)
            kept = int(self._kept(model).sum())
            if kept == target:
                return middle, model
            if kept > target:
                high = (middle, model)
            else:
                low = middle
        return high

    def _lasso(self, C: float) -> LogisticRegression:
        return _QuietLogisticRegression(
            C=C, l1_ratio=1.0, solver="saga", max_iter=self.max_iter, random_state=self.random_state
        )

    def _strongest(self, model: LogisticRegression) -> np.ndarray:
        """Non-zero features, cut to the ``max_features`` largest when the fit keeps more, and never empty
        (an all-zero fit keeps its single largest coefficient) so the forest has input."""
        weight = np.abs(model.coef_).max(axis=0)
        count = int(np.clip(np.count_nonzero(weight), 1, self.max_features))
        support = np.zeros(weight.shape, dtype=bool)
        support[np.argsort(-weight, kind="stable")[:count]] = True
        return support

    @staticmethod
    def _kept(model: LogisticRegression) -> np.ndarray:
        return np.any(model.coef_ != 0, axis=0)

    def _get_support_mask(self):
        check_is_fitted(self, "support_")
        return self.support_


class _QuietLogisticRegression(LogisticRegression):
    """saga on a strong L1 path stops at max_iter on the weakest penalties; the kept set is still usable."""

    def fit(self, X, y, sample_weight=None):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return super().fit(X, y, sample_weight=sample_weight)
