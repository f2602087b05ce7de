"""The site's one formatting rule set: counts in the right number, units, dates, no raw dicts."""

import datetime as dt

from django.template import Context, Template

from osteoscreen.templatetags.osteoscreen_format import (
    bmd,
    count,
    days_between,
    labelled,
    split_parameters,
    with_unit,
)


def test_counts_agree_with_their_number():
    assert count(1, "edit") == "1 edit" and count(2, "edit") == "2 edits" and count(0, "case") == "0 cases"


def test_days_between_ct_and_qct_read_as_words():
    assert days_between(-3) == "3 days before the CT"
    assert days_between(1) == "1 day after the CT"
    assert "unknown" in days_between(None)


def test_bmd_has_three_decimals_and_its_unit_and_missing_values_show_a_dash_alone():
    assert bmd(0.7, "g/cm2") == "0.700 g/cm²" and bmd(None) == "–"
    assert with_unit(None, "mm") == "–" and with_unit(1.25, "mm") == "1.25 mm"


def test_split_parameters_and_job_results_are_labelled_values_not_dicts():
    text = split_parameters(
        {"seed": 1, "test_fraction": 0.22, "test_cutoff": None, "validation_fraction": 0.3, "stratify": True}
    )
    assert text == "test fraction 0.22 · validation fraction 0.3 · stratified yes"
    html = str(labelled({"agreement_id": 4, "dice": 0.98123}))
    assert "<dt>Agreement id</dt><dd>4</dd>" in html and "0.981" in html and "{" not in html


def test_dates_render_iso_like_in_every_template(settings):
    moment = dt.datetime(2026, 12, 2, 4, 4, tzinfo=dt.UTC)
    rendered = Template("{{ t }}|{{ t|date:'SHORT_DATETIME_FORMAT' }}|{{ t|date }}").render(
        Context({"t": moment})
    )
    assert rendered == "2026-12-02 04:04|2026-12-02 04:04|2026-12-02"
