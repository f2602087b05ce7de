import datetime as dt

import pytest

from cases.models import Case, Split, SplitMembership
from cases.selectors import cohort_flow
from cases.services import (
    SplitLocked,
    SplitParams,
    cohort_create,
    exclusion_add,
    split_check_mutable,
    split_create,
)
from inference.training.versions import model_version_create


@pytest.fixture
def cohort(make_case):
    cases = []
    for i in range(20):
        case = make_case(size=(16, 16, 16), exam_datetime=dt.datetime(2024, 1 + i // 2, 1 + i, tzinfo=dt.UTC))
        Case.objects.filter(pk=case.pk).update(
            bone_status=["normal", "osteopenia", "osteoporosis", "normal"][i % 4]
        )
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


def test_a_split_used_by_a_model_can_never_change(cohort, admin_client):
    split = split_create(cohort=cohort, params=SplitParams(seed=7))
    change_url = f"/admin/cases/split/{split.pk}/change/"
    form = {
        "cohort": cohort.pk,
        "version": split.version,
        "seed": 8,
        "params": '{"seed": 8}',
        "current": "on",
    }
    split_check_mutable(split)  # not used yet: it may still change

    model_version_create(family="segmentation", split=split)  # a model trains on it: the production path

    assert Split.objects.get(pk=split.pk).locked
    with pytest.raises(SplitLocked) as refused:
        split_check_mutable(split)
    assert refused.value.status_code == 409
    assert admin_client.post(change_url, form).status_code == 403
    assert admin_client.post(f"/admin/cases/split/{split.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Split.objects.get(pk=split.pk).seed == 7


def test_a_split_no_model_has_used_may_still_be_edited_by_an_admin(cohort, admin_client):
    split = split_create(cohort=cohort, params=SplitParams(seed=7))
    form = {
        "cohort": cohort.pk,
        "version": split.version,
        "seed": 8,
        "params": '{"seed": 8}',
        "current": "on",
    }

    response = admin_client.post(f"/admin/cases/split/{split.pk}/change/", form)

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Split.objects.get(pk=split.pk).seed == 8


def test_the_cohort_flow_counts_screened_excluded_included_and_subsets(cohort):
    split_create(cohort=cohort, params=SplitParams(seed=3))
    flow = cohort_flow(cohort)
    assert flow["screened"] == 20 and flow["excluded"] == 1 and flow["included"] == 19
    assert flow["excluded_by_reason"][0]["reason"] == "hip_replacement"
    assert sum(s["count"] for s in flow["subsets"]) == 19
    assert sum(flow["included_classes"].values()) == 19
    assert SplitMembership.objects.count() == 19


def test_undated_cases_never_enter_the_date_based_test_set_and_the_split_says_so(make_case):
    """The old sort put a case without an examination date at "now", i.e. after every dated case, so the
    latest-cases test set took the undated ones first."""
    dated = [
        make_case(size=(16, 16, 16), exam_datetime=dt.datetime(2024, 1, 1 + i, tzinfo=dt.UTC))
        for i in range(8)
    ]
    undated = [make_case(size=(16, 16, 16)) for _ in range(2)]
    assert all(c.exam_datetime is None for c in undated)
    cohort = cohort_create(name="Partly dated", cases=dated + undated)
    split = split_create(cohort=cohort, params=SplitParams(seed=3, test_fraction=0.2, stratify=False))
    members = dict(split.memberships.values_list("case_id", "subset"))
    assert {members[c.pk] for c in undated} <= {"training", "validation"}
    assert {pk for pk, s in members.items() if s == "test"} == {dated[-1].pk, dated[-2].pk}
    assert split.params["undated_kept_out_of_test"] == sorted(c.pk for c in undated)
    assert "without an examination date" in split.params["note"]


def test_a_test_cutoff_leaves_undated_cases_in_development(make_case):
    dated = [
        make_case(size=(16, 16, 16), exam_datetime=dt.datetime(2024, 1 + i, 1, tzinfo=dt.UTC))
        for i in range(4)
    ]
    undated = make_case(size=(16, 16, 16))
    cohort = cohort_create(name="Cut off", cases=[*dated, undated])
    split = split_create(
        cohort=cohort, params=SplitParams(seed=3, test_cutoff=dt.date(2024, 3, 1), stratify=False)
    )
    members = dict(split.memberships.values_list("case_id", "subset"))
    assert {pk for pk, s in members.items() if s == "test"} == {dated[2].pk, dated[3].pk}
    assert members[undated.pk] != "test"


def test_a_fully_dated_cohort_has_no_undated_note(cohort):
    split = split_create(cohort=cohort, params=SplitParams(seed=7))
    assert "undated_kept_out_of_test" not in split.params
