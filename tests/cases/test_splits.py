import datetime as dt

import pytest

from cases.models import Case, SplitMembership
from cases.selectors import cohort_flow
from cases.services import (
    SplitLocked,
    SplitParams,
    cohort_create,
    exclusion_add,
    split_check_mutable,
    split_create,
    split_lock,
)


@pytest.fixture
def cohort(make_case):
    cases = []
    for i in range(20):
        case = make_case(size=(16, 16, 16), exam_datetime=dt.datetime(2024, 1 + i // 2, 1 + i, tzinfo=dt.UTC))
        Case.objects.filter(pk=case.pk).update(bone_status=["normal", "osteopenia", "osteoporosis", "normal"][i % 4])
        cases.append(case)
    exclusion_add(case=cases[0], reason="hip_replacement")
    return cohort_create(name="Study", cases=cases)


def test_the_test_set_is_the_latest_cases_and_the_rest_is_split_7_to_3(cohort):
    split = split_create(cohort=cohort, params=SplitParams(seed=1, test_fraction=0.2))
    members = {m.case_id: m.subset for m in split.memberships.all()}
    assert len(members) == 19  # the excluded case is not in the split
    by_date = list(Case.objects.filter(pk__in=members).order_by("exam_datetime"))
    test_ids = {c.pk for c in by_date[-4:]}
    assert {pk for pk, s in members.items() if s == "test"} == test_ids
    validation = [pk for pk, s in members.items() if s == "validation"]
    assert 4 <= len(validation) <= 6  # 30% of 15 development cases, rounded per class


def test_the_same_seed_gives_the_same_split_and_another_seed_differs(cohort):
    first = split_create(cohort=cohort, params=SplitParams(seed=7))
    again = split_create(cohort=cohort, params=SplitParams(seed=7))
    other = split_create(cohort=cohort, params=SplitParams(seed=8))

    def subsets(split):
        return dict(split.memberships.values_list("case_id", "subset"))

    assert subsets(first) == subsets(again)
    assert subsets(first) != subsets(other)
    assert [first.version, again.version, other.version] == [1, 2, 3]
    assert list(cohort.splits.filter(current=True)) == [other]


def test_a_split_used_by_a_model_can_never_change(cohort):
    split = split_create(cohort=cohort, params=SplitParams(seed=7))
    split_check_mutable(split)
    split_lock(split=split)
    with pytest.raises(SplitLocked):
        split_check_mutable(split)


def test_the_cohort_flow_counts_screened_excluded_included_and_subsets(cohort):
    split_create(cohort=cohort, params=SplitParams(seed=3))
    flow = cohort_flow(cohort)
    assert flow["screened"] == 20 and flow["excluded"] == 1 and flow["included"] == 19
    assert flow["excluded_by_reason"][0]["reason"] == "hip_replacement"
    assert sum(s["count"] for s in flow["subsets"]) == 19
    assert sum(flow["included_classes"].values()) == 19
    assert SplitMembership.objects.count() == 19
