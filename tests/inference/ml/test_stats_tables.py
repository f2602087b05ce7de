"""Table 1 statistics: ANOVA and chi-square against scipy and the paper, descriptive summaries."""

import numpy as np
import pytest
from scipy import stats as scipy_stats

from inference.ml import stats


def test_anova_matches_scipy():
    rng = np.random.default_rng(0)
    groups = [rng.normal(67.8, 8.2, n) for n in (248, 107, 101)]
    result = stats.one_way_anova(groups)
    reference = scipy_stats.f_oneway(*groups)
    assert result.statistic == pytest.approx(reference.statistic, rel=1e-10)
    assert result.p_value == pytest.approx(reference.pvalue, rel=1e-10)
    assert result.dof == (2, 453)


def test_anova_ignores_missing_values():
    groups = [[60.0, 70.0, np.nan, 65.0], [71.0, 69.0, 80.0], [55.0, 62.0]]
    clean = [[60.0, 70.0, 65.0], [71.0, 69.0, 80.0], [55.0, 62.0]]
    assert stats.one_way_anova(groups).p_value == pytest.approx(scipy_stats.f_oneway(*clean).pvalue)


def test_anova_has_no_p_value_for_a_single_group():
    assert stats.one_way_anova([[1.0, 2.0, 3.0]]).p_value is None


@pytest.mark.parametrize(
    "table",
    [[[105, 101, 42], [45, 44, 18], [52, 30, 19]], [[120, 128], [50, 57], [47, 54]], [[3, 0, 9], [2, 7, 1]]],
)
def test_chi_square_matches_scipy(table):
    result = stats.chi_square_independence(table)
    reference = scipy_stats.chi2_contingency(table, correction=False)
    assert result.statistic == pytest.approx(reference.statistic, rel=1e-10)
    assert result.p_value == pytest.approx(reference.pvalue, rel=1e-10)
    assert result.dof == reference.dof


def test_chi_square_reproduces_the_papers_class_mix_p_value():
    # method.md, Cohort: train 105/101/42, validation 45/44/18, test 52/30/19; Table 1 reports p = 0.376.
    result = stats.chi_square_independence([[105, 101, 42], [45, 44, 18], [52, 30, 19]])
    assert result.p_value is not None and round(result.p_value, 3) == 0.376


def test_chi_square_drops_an_empty_category():
    with_empty = stats.chi_square_independence([[10, 0, 5], [7, 0, 9]])
    without = stats.chi_square_independence([[10, 5], [7, 9]])
    assert with_empty.p_value == pytest.approx(without.p_value)


def test_chi_square_rejects_negative_counts():
    with pytest.raises(ValueError):
        stats.chi_square_independence([[1, -1], [2, 3]])


def test_normal_ages_are_described_as_mean_and_sd():
    ages = np.random.default_rng(1).normal(67.8, 8.2, 456)
    summary = stats.describe_continuous(ages)
    assert summary.looks_normal
    assert summary.mean == pytest.approx(ages.mean()) and summary.sd == pytest.approx(ages.std(ddof=1))
    assert summary.text() == f"{ages.mean():.1f} ± {ages.std(ddof=1):.1f}"


def test_skewed_values_are_described_as_median_and_iqr():
    doses = np.random.default_rng(2).lognormal(0.0, 1.0, 400)
    summary = stats.describe_continuous(doses, normality_test="shapiro-wilk")
    assert not summary.looks_normal
    q1, median, q3 = np.percentile(doses, [25, 50, 75])
    assert summary.text(2) == f"{median:.2f} ({q1:.2f}, {q3:.2f})"


def test_the_ks_normality_check_standardises_before_comparing():
    values = np.random.default_rng(3).normal(241.3, 40.0, 300)
    standardised = (values - values.mean()) / values.std(ddof=1)
    assert stats.normality_p_value(values) == pytest.approx(scipy_stats.kstest(standardised, "norm").pvalue)


def test_it_rejects_an_unknown_normality_test():
    with pytest.raises(ValueError, match="normality test"):
        stats.normality_p_value(np.arange(10.0), test="eyeball")


def test_kruskal_wallis_replaces_anova_for_skewed_groups():
    rng = np.random.default_rng(4)
    groups = [rng.lognormal(0, 1, 200) for _ in range(3)]
    result = stats.compare_continuous(groups)
    assert result.test == "Kruskal-Wallis"
    assert result.p_value == pytest.approx(scipy_stats.kruskal(*groups).pvalue)
