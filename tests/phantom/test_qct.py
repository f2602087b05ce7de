import datetime as dt

import numpy as np
import pytest

from phantom import reference as ref
from phantom.case import CaseOptions, generate_case
from phantom.qct import bone_status_from_t_scores, sample_qct, t_score


def _draws(n, seed=0, **kw):
    rng = np.random.default_rng(seed)
    return [sample_qct(rng, **kw) for _ in range(n)]


def test_the_default_class_mix_is_the_papers():
    draws = _draws(3000)
    for status, share in ref.PAPER_CLASS_MIX.items():
        observed = np.mean([d.bone_status == status for d in draws])
        assert abs(observed - share) < 0.03, status  # ~3.5 binomial SDs at n=3000


def test_a_custom_class_mix_is_honoured():
    draws = _draws(2000, seed=1, class_mix={"normal": 0.2, "osteopenia": 0.3, "osteoporosis": 0.5})
    assert abs(np.mean([d.bone_status == "osteoporosis" for d in draws]) - 0.5) < 0.04


def test_the_class_follows_the_lowest_neck_or_total_hip_t_score():
    for d in _draws(500, seed=2):
        assert d.bone_status == bone_status_from_t_scores(d.t_score)


def test_t_scores_come_from_the_young_adult_reference():
    for d in _draws(50, seed=3):
        for site, bmd in d.bmd.items():
            mean, sd = ref.YOUNG_ADULT_REFERENCE[site]
            assert d.t_score[site] == pytest.approx((bmd - mean) / sd, abs=0.051)
            assert t_score(site, bmd) == pytest.approx((bmd - mean) / sd)


def test_hip_sites_correlate_like_real_qct():
    draws = _draws(1500, seed=4)
    table = np.array([[d.t_score[s] for s in ref.QCT_SITES] for d in draws])
    r = np.corrcoef(table.T)[np.triu_indices(len(ref.QCT_SITES), 1)]
    assert r.min() >= 0.78 and r.max() <= 0.93


def test_age_and_sex_look_like_the_papers_cohort():
    draws = _draws(2000, seed=5)
    ages = np.array([d.age for d in draws])
    assert ages.min() >= 50 and ages.max() <= 91 and 64 <= ages.mean() <= 72
    assert 0.45 <= np.mean([d.sex == "F" for d in draws]) <= 0.6


def test_exams_fall_in_jan_to_nov_2024_with_qct_within_a_week():
    options = CaseOptions(matrix=32, region="left_neck", readers=False)
    for index in range(25):
        meta = generate_case(seed=9, index=index, options=options).metadata
        exam = dt.datetime.fromisoformat(meta["exam_datetime"])
        assert dt.datetime(2024, 1, 1) <= exam < dt.datetime(2024, 12, 1)
        assert abs((dt.date.fromisoformat(meta["qct_date"]) - exam.date()).days) <= 7


def test_a_bad_class_mix_is_refused():
    with pytest.raises(ValueError):
        _draws(1, class_mix={"normal": 1.0})
    with pytest.raises(ValueError):
        _draws(1, class_mix={"normal": -1.0, "osteopenia": 1.0, "osteoporosis": 1.0})
