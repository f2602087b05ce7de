"""The selection steps: RFE, mRMR and LASSO as scikit-learn selectors."""

import numpy as np
import pytest

from inference.ml.selection import LassoSelector, MRMRSelector, elimination_schedule, recursive_elimination


def three_class_data(*, n=150, noise_features=8, seed=0):
    """Columns 0 and 1 carry the class (independently), column 2 is a near-copy of column 0."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    first = y + rng.normal(0, 0.5, n)
    second = (y == 2) * 2.0 + rng.normal(0, 0.5, n)
    copy_of_first = first + rng.normal(0, 0.01, n)
    X = np.column_stack([first, second, copy_of_first, rng.normal(size=(n, noise_features))])
    return X, y


def test_mrmr_picks_the_relevant_feature_and_skips_its_copy():
    X, y = three_class_data()
    selector = MRMRSelector(n_features=2, random_state=0).fit(X, y)
    picked = set(selector.selected_order_.tolist())
    assert 1 in picked
    assert len(picked & {0, 2}) == 1


def test_mrmr_keeps_the_configured_count():
    X, y = three_class_data()
    selector = MRMRSelector(n_features=5, random_state=0).fit(X, y)
    assert selector.transform(X).shape == (X.shape[0], 5)
    assert selector.get_support().sum() == 5


def test_mrmr_rejects_a_count_below_one():
    X, y = three_class_data()
    with pytest.raises(ValueError, match="n_features"):
        MRMRSelector(n_features=0).fit(X, y)


def test_lasso_keeps_the_configured_count_with_coefficients_per_class():
    X, y = three_class_data(noise_features=20)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    selector = LassoSelector(max_features=4, random_state=0).fit(X, y)
    kept = selector.get_support().sum()
    assert kept == 4
    assert selector.coef_.shape == (3, kept)
    assert selector.get_support()[1]


def test_lasso_rejects_a_bad_penalty_grid():
    X, y = three_class_data()
    with pytest.raises(ValueError, match="C_grid"):
        LassoSelector(C_grid=[0.0, 1.0]).fit(X, y)


def test_rfe_keeps_the_configured_count():
    X, y = three_class_data()
    rfe = recursive_elimination(n_features=3, step=0.2).fit(X, y)
    assert rfe.get_support().sum() == 3


@pytest.mark.parametrize("step", [0, 1.5, -0.1])
def test_rfe_rejects_a_bad_step(step):
    with pytest.raises(ValueError, match="step"):
        recursive_elimination(n_features=3, step=step)


def test_rfe_removes_a_fraction_of_the_features_still_left_each_round():
    """Rank r + 1 marks the features dropped r rounds before the end, so the ranking tells the rounds.
    scikit-learn's RFE (used before) removes int(0.2 x 40) = 8 features every round: 5 rounds."""
    X, y = three_class_data(n=120, noise_features=37)
    rfe = recursive_elimination(n_features=5, step=0.2).fit(X, y)
    dropped_per_round = [int((rfe.ranking_ == rank).sum()) for rank in range(rfe.ranking_.max(), 1, -1)]
    assert dropped_per_round == [8, 6, 5, 4, 3, 2, 2, 2, 1, 1, 1]
    assert rfe.get_support().sum() == 5 and rfe.get_support()[1]


def test_the_elimination_schedule_shrinks_with_the_features_left():
    schedule = elimination_schedule(n_initial=2446, n_features=50, step=0.1)
    left = 2446
    for removed in schedule:
        assert removed == min(max(1, int(0.1 * left)), left - 50)
        left -= removed
    assert left == 50 and len(schedule) == 38
    assert elimination_schedule(n_initial=20, n_features=5, step=4) == [4, 4, 4, 3]


@pytest.mark.parametrize("count", [4, 6, 9])
def test_lasso_keeps_exactly_the_configured_count_when_the_path_reaches_it(count):
    """On a coarse grid the number of non-zero features jumps (here from 3 straight past 9 between two
    grid points); the old rule, the weakest penalty keeping at most the count, then kept 3."""
    X, y = three_class_data(noise_features=20)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    selector = LassoSelector(max_features=count, C_grid=tuple(np.logspace(-3, 2, 11)), random_state=0).fit(
        X, y
    )
    assert selector.get_support().sum() == count
    assert selector.coef_.shape == (3, count)
    assert np.all(np.abs(selector.coef_).max(axis=0) > 0)


def test_lasso_keeps_fewer_only_when_no_penalty_on_the_path_reaches_the_count():
    X, y = three_class_data(noise_features=2)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    selector = LassoSelector(max_features=5, C_grid=(1e-3, 1e-2), random_state=0).fit(X, y)
    reachable = max(int(np.any(selector._lasso(C).fit(X, y).coef_ != 0, axis=0).sum()) for C in (1e-3, 1e-2))
    assert reachable < 5
    assert selector.get_support().sum() == max(reachable, 1)
