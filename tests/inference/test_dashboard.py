"""The evaluation dashboards: who may see them, and that they show the statistics of the data they read."""

import datetime as dt
import json

import numpy as np
import pytest
from django.urls import reverse
from django.utils import timezone

from inference.ml import stats

CLASSES = ("normal", "osteopenia", "osteoporosis")
SUBSETS = ("training", "validation", "test")
N_INCLUDED = 45
PAGE_NAMES = (
    "inference:dashboard",
    "inference:dashboard-predictions",
    "inference:dashboard-predictions-csv",
    "inference:dashboard-compare",
    "inference:dashboard-report",
)


def _case(i: int, *, bone_status: str, rng):
    from cases.models import Case, Patient

    patient = Patient.objects.create(
        study_id=f"SYN-{i:04d}", sex="MF"[i % 2], birth_year=int(rng.integers(1935, 1972))
    )
    return Case.objects.create(
        patient=patient,
        exam_datetime=timezone.make_aware(dt.datetime(2024, 1, 1) + dt.timedelta(days=i)),
        spacing=[0.8, 0.8, 1.25],
        size=[8, 8, 8],
        origin=[0, 0, 0],
        direction=[1, 0, 0, 0, 1, 0, 0, 0, 1],
        volume=f"volumes/{i}.nii.gz",
        volume_sha256=f"{i:064x}",
        bone_status=bone_status,
        dlp_mgycm=float(rng.normal(241.3, 30)),
        effective_dose_msv=float(rng.normal(3.6, 0.4)),
    )


def _probabilities(truth: int, rng, *, skill: float) -> dict:
    logits = rng.normal(size=3) + skill * np.eye(3)[truth]
    p = np.exp(logits) / np.exp(logits).sum()
    return {c: float(v) for c, v in zip(CLASSES, p, strict=True)}


@pytest.fixture
def study(db):
    """A cohort of 45 included and 3 excluded cases, a locked split, a segmentation version with masks,
    and two classifier versions with predictions on every included case."""
    from cases.models import Cohort, Exclusion, Split, SplitMembership
    from inference.models import ModelVersion, Prediction, SegmentationPrediction

    rng = np.random.default_rng(20240101)
    truth = [i % 3 for i in range(N_INCLUDED)]
    included = [_case(i, bone_status=CLASSES[t], rng=rng) for i, t in enumerate(truth)]
    excluded = [_case(100 + i, bone_status="normal", rng=rng) for i in range(3)]
    for case, reason in zip(excluded, ("bone_metastases", "hip_fracture", "hip_fracture"), strict=True):
        Exclusion.objects.create(case=case, reason=reason)
    cohort = Cohort.objects.create(name="Synthetic study")
    cohort.cases.set(included + excluded)
    split = Split.objects.create(
        cohort=cohort, version=1, seed=7, params={"validation_fraction": 0.3}, locked=True
    )
    subsets = [SUBSETS[(i // 3) % 3] for i in range(N_INCLUDED)]
    SplitMembership.objects.bulk_create(
        SplitMembership(split=split, case=c, subset=s) for c, s in zip(included, subsets, strict=True)
    )
    segmentation = ModelVersion.objects.create(family="segmentation", number=1, status="active", split=split)
    first = ModelVersion.objects.create(
        family="classifier",
        number=1,
        status="active",
        split=split,
        parent=segmentation,
        lineage={"code_version": "radiomics-abc123", "seed": 3},
        metrics={
            "selected_features": [
                {"name": "wavelet-LLH_glcm_Idmn", "coefficient": 0.42},
                {"name": "original_firstorder_Median", "coefficient": -0.31},
            ]
        },
    )
    second = ModelVersion.objects.create(
        family="classifier", number=2, status="trained", split=split, parent=segmentation
    )
    for case, t, subset in zip(included, truth, subsets, strict=True):
        mask = SegmentationPrediction.objects.create(
            case=case,
            model_version=segmentation,
            mask=f"predictions/{case.pk}.nii.gz",
            mask_sha256=f"{case.pk:064x}",
            dice={"1": 0.97, "2": 0.96, "overall": float(rng.uniform(0.94, 0.99))},
            volume_difference_cm3={"1": float(rng.normal(0.03, 0.02)), "2": float(rng.normal(0.03, 0.02))},
        )
        for version, skill in ((first, 1.5), (second, 0.5)):
            probabilities = _probabilities(t, rng, skill=skill)
            Prediction.objects.create(
                case=case,
                model_version=version,
                segmentation=mask,
                mask_source="prediction",
                probabilities=probabilities,
                predicted_class=max(probabilities, key=lambda name: probabilities[name]),
                true_class=CLASSES[t],
                subset=subset,
            )
    return {"cohort": cohort, "split": split, "first": first, "second": second, "included": included}


def _arrays(version, subset: str):
    from inference.models import Prediction

    rows = Prediction.objects.filter(model_version=version, subset=subset).order_by("case_id")
    truth = np.array([CLASSES.index(r.true_class) for r in rows])
    probabilities = np.array([[r.probabilities[c] for c in CLASSES] for r in rows])
    return truth, probabilities


def _query(study) -> str:
    return f"?version={study['first'].pk}&cohort={study['cohort'].pk}"


@pytest.mark.parametrize("name", PAGE_NAMES)
def test_a_reader_is_refused_every_dashboard_page(client, reader, study, name):
    client.force_login(reader)
    assert client.get(reverse(name) + _query(study)).status_code == 403


@pytest.mark.parametrize("name", PAGE_NAMES)
def test_an_anonymous_visitor_is_sent_to_log_in(client, study, name):
    response = client.get(reverse(name) + _query(study))
    assert response.status_code == 302 and "/login/" in response["Location"]


@pytest.mark.parametrize("role", ["pi", "coordinator", "admin_user"])
def test_the_dashboard_shows_table3_as_the_statistics_module_computes_it(client, study, role, request):
    client.force_login(request.getfixturevalue(role))
    response = client.get(reverse("inference:dashboard") + _query(study))
    assert response.status_code == 200
    truth, probabilities = _arrays(study["first"], "test")
    expected = stats.auc_with_confidence_interval(positive=truth == 1, scores=probabilities[:, 1])
    html = response.content.decode()
    assert f"{expected.auc:.3f} ({expected.low:.3f}–{expected.high:.3f})" in html
    matrix = stats.confusion_matrix(
        true_class=truth, predicted_class=probabilities.argmax(axis=1), n_classes=3
    )
    sensitivity = stats.class_decision(matrix, 1).sensitivity
    assert sensitivity is not None
    assert f"{sensitivity.estimate:.3f} ({sensitivity.low:.3f}–{sensitivity.high:.3f})" in html


def _figure(response, figure_id: str) -> dict:
    html = response.content.decode()
    start = html.index(f'<script id="{figure_id}" type="application/json">') + len(
        f'<script id="{figure_id}" type="application/json">'
    )
    return json.loads(html[start : html.index("</script>", start)])


def test_the_dashboard_draws_the_study_flow_and_every_figure(client, pi, study):
    client.force_login(pi)
    response = client.get(reverse("inference:dashboard") + _query(study))
    flow = _figure(response, "figure-flow")
    assert (flow["screened"], flow["included"]) == (N_INCLUDED + 3, N_INCLUDED)
    assert {e["reason"]: e["n"] for e in flow["excluded"]} == {"bone metastases": 1, "hip fracture": 2}
    assert [s["n"] for s in flow["subsets"]] == [15, 15, 15]
    roc = _figure(response, "figure-roc-validation")
    assert [c["class"] for c in roc["curves"]] == list(CLASSES)
    assert roc["curves"][0]["roc"]["fpr"][0] == 0.0
    confusion = _figure(response, "figure-confusion-training")
    assert np.sum(confusion["matrix"]) == 15
    features = _figure(response, "figure-features")
    assert features["features"][0] == {"name": "wavelet-LLH_glcm_Idmn", "coefficient": 0.42}
    assert 'src="/static/inference/dashboard.js"' in response.content.decode()


def test_table1_and_table2_show_the_cohort_and_segmentation_statistics(client, pi, study):
    from cases.models import Case

    client.force_login(pi)
    html = client.get(reverse("inference:dashboard") + _query(study)).content.decode()
    assert "one-way ANOVA" in html or "Kruskal-Wallis" in html
    sexes = np.array([c.patient.sex for c in Case.objects.filter(exclusions__isnull=True)])
    subsets = np.array([SUBSETS[(i // 3) % 3] for i in range(N_INCLUDED)])
    table = [[int(((subsets == s) & (sexes == x)).sum()) for x in "MF"] for s in SUBSETS]
    p_value = stats.chi_square_independence(table).p_value
    assert f"{p_value:.3f}" in html
    assert "Table 2. Segmentation" in html and " ± " in html


def test_the_dashboard_without_a_model_version_says_so(client, pi, db):
    client.force_login(pi)
    response = client.get(reverse("inference:dashboard"))
    assert response.status_code == 200
    assert "nothing to evaluate yet" in response.content.decode()


def test_an_unknown_version_is_not_found(client, pi, study):
    client.force_login(pi)
    assert client.get(reverse("inference:dashboard") + "?version=9999").status_code == 404


def test_the_predictions_table_filters_to_misclassified_cases_and_links_to_the_case(client, pi, study):
    from inference.models import Prediction

    client.force_login(pi)
    response = client.get(reverse("inference:dashboard-predictions") + _query(study) + "&misclassified=1")
    assert response.status_code == 200
    wrong = [
        p
        for p in Prediction.objects.filter(model_version=study["first"]).select_related("case__patient")
        if p.predicted_class != p.true_class
    ]
    rows = response.context["page"].object_list
    assert {r["study_id"] for r in rows} == {p.case.patient.study_id for p in wrong}
    assert wrong and all(not r["correct"] for r in rows)
    assert reverse("cases:detail", args=[wrong[0].case_id]) in response.content.decode()


def test_the_predictions_table_filters_by_split_and_class(client, coordinator, study):
    client.force_login(coordinator)
    response = client.get(
        reverse("inference:dashboard-predictions") + _query(study) + "&subset=test&true_class=osteopenia"
    )
    rows = response.context["page"].object_list
    assert rows and all(r["subset"] == "test" and r["true_class"] == "osteopenia" for r in rows)


def test_the_predictions_csv_holds_every_included_case(client, pi, study):
    client.force_login(pi)
    response = client.get(reverse("inference:dashboard-predictions-csv") + _query(study))
    lines = response.content.decode().strip().splitlines()
    assert lines[0].startswith("case_id,study_id,subset,true_class,predicted_class")
    assert len(lines) == 1 + N_INCLUDED


def test_version_vs_version_shows_the_delong_p_value(client, pi, study):
    client.force_login(pi)
    url = (
        reverse("inference:dashboard-compare")
        + f"?version_a={study['first'].pk}&version_b={study['second'].pk}&cohort={study['cohort'].pk}"
    )
    response = client.get(url)
    assert response.status_code == 200
    truth, first = _arrays(study["first"], "training")
    _, second = _arrays(study["second"], "training")
    expected = stats.delong_test(positive=truth == 0, scores_a=first[:, 0], scores_b=second[:, 0])
    row = next(r for r in response.context["rows"] if r["split"] == "training" and r["class"] == "normal")
    assert row["p"] == ("<0.001" if expected.p_value < 0.001 else f"{expected.p_value:.3f}")
    assert row["auc_a"] == f"{expected.auc_a:.3f}"


def test_the_report_is_stamped_with_its_lineage(client, pi, study):
    client.force_login(pi)
    html = client.get(reverse("inference:dashboard-report") + _query(study)).content.decode()
    assert "radiomics-abc123" in html
    assert f"v{study['split'].version} (id {study['split'].pk}), seed 7, locked" in html
    assert "Table 3. Classification" in html and "window.print()" in html


def test_the_api_returns_the_whole_dashboard_to_a_pi(api_client, pi, study):
    api_client.force_authenticate(pi)
    response = api_client.get(reverse("api-dashboard") + _query(study))
    assert response.status_code == 200
    body = response.json()
    assert [s["split"] for s in body["classification"]["splits"]] == list(SUBSETS)
    assert body["lineage"]["split"]["id"] == study["split"].pk
    assert body["flow"]["included"] == N_INCLUDED
    assert len(body["classification"]["table3"]) == 9


def test_the_api_refuses_a_reader(api_client, reader, study):
    api_client.force_authenticate(reader)
    assert api_client.get(reverse("api-dashboard") + _query(study)).status_code == 403


def test_the_api_rejects_a_mask_source_without_predictions(api_client, pi, study):
    api_client.force_authenticate(pi)
    response = api_client.get(reverse("api-dashboard") + _query(study) + "&mask_source=reader")
    assert response.status_code == 400
    assert "mask_source" in response.json()


def test_the_comparison_api_matches_delong(api_client, coordinator, study):
    api_client.force_authenticate(coordinator)
    response = api_client.get(
        reverse("api-dashboard-compare") + f"?version_a={study['first'].pk}&version_b={study['second'].pk}"
    )
    assert response.status_code == 200
    truth, first = _arrays(study["first"], "test")
    _, second = _arrays(study["second"], "test")
    expected = stats.delong_test(positive=truth == 2, scores_a=first[:, 2], scores_b=second[:, 2])
    test = response.json()["splits"][2]["classes"][2]["test"]
    assert test["p_value"] == pytest.approx(expected.p_value)
    assert response.json()["n_common"] == N_INCLUDED


CHROMIUM = "/usr/bin/chromium"


@pytest.mark.browser
def test_the_page_draws_interactive_charts_and_downloads_their_data(
    live_server, client, pi, study, monkeypatch, tmp_path
):
    """Headless Chromium: the ROC curves are drawn as SVG, hovering reads an operating point, CSV downloads."""
    import os

    sync_api = pytest.importorskip("playwright.sync_api")
    if not os.path.exists(CHROMIUM):
        pytest.skip("no system Chromium")
    # Playwright's sync API runs an event loop in this thread; the ORM calls above are already done.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    client.force_login(pi)
    cookie = {"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})
        context.add_cookies([cookie])
        page = context.new_page()
        page.goto(live_server.url + reverse("inference:dashboard") + _query(study))
        roc = page.locator('figure[data-source="figure-roc-test"]')
        roc.locator("svg polyline").first.wait_for()
        assert roc.locator("svg polyline").count() == 3
        roc.locator("svg").hover(position={"x": 100, "y": 120})
        assert "threshold" in roc.locator("svg text", has_text="threshold").first.text_content()
        with page.expect_download() as download:
            roc.locator('button[data-download="csv"]').click()
        lines = open(download.value.path()).read().splitlines()
        assert lines[0] == "curve,class,threshold,fpr,tpr" and len(lines) > 3
        with page.expect_download() as download:
            roc.locator('button[data-download="svg"]').click()
        assert open(download.value.path()).read().startswith("<svg")
        page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
        browser.close()


def test_a_mask_without_an_overall_value_is_left_out_of_table2_not_combined_by_another_convention(study):
    """Before, the dashboard averaged the sides' Dice here: a third "overall" beside voi.metrics' one."""
    from inference.evaluation import selectors
    from inference.models import SegmentationPrediction

    case = study["included"][0]
    SegmentationPrediction.objects.filter(case=case).update(
        dice={"1": 0.90, "2": 0.80}, volume_difference_cm3={"1": 0.25, "2": -0.05}
    )
    cases = selectors.evaluation_cases(
        version=study["first"], cohort=study["cohort"], mask_source="prediction", split=study["split"]
    )
    row = list(cases.case_ids).index(case.pk)
    assert np.isnan(cases.dice[row]) and np.isnan(cases.volume_difference_cm3[row])
    assert cases.probabilities[row].sum() == pytest.approx(1.0)


def test_the_heading_names_the_version_and_the_cohort_once_each(client, pi, study):
    study["first"].name = f"radiomics RF on {study['cohort'].name}"
    study["first"].save()
    client.force_login(pi)
    html = client.get(reverse("inference:dashboard") + _query(study)).content.decode()
    heading = html[html.index("<h1>") : html.index("</h1>")]
    assert str(study["first"]) in heading
    assert heading.count(study["cohort"].name) == 1
    assert f"Cases of cohort <strong>{study['cohort'].name}</strong>" in html


def test_table3_names_the_training_row_out_of_bag_when_the_version_says_so(client, pi, study):
    """Before, the training row was shown as plain "training" whatever its probabilities were."""
    client.force_login(pi)
    html = client.get(reverse("inference:dashboard") + _query(study)).content.decode()
    assert "training (apparent, in-sample)" in html and "apparent (in-sample) performance" in html
    study["first"].metrics = {**study["first"].metrics, "training_probabilities": "out-of-bag"}
    study["first"].save()
    for name in ("inference:dashboard", "inference:dashboard-report"):
        html = client.get(reverse(name) + _query(study)).content.decode()
        assert "<td>training (out-of-bag)</td>" in html
        assert "The training row is out-of-bag" in html


# --- Lineage guards: every model that touched a case, and its split ---------------------------------------


def _split_with(study, subsets_by_case: dict, *, version: int, cohort=None):
    from cases.models import Split, SplitMembership

    split = Split.objects.create(
        cohort=cohort or study["cohort"], version=version, seed=version, params={}, locked=True, current=False
    )
    SplitMembership.objects.bulk_create(
        SplitMembership(split=split, case_id=pk, subset=s) for pk, s in subsets_by_case.items()
    )
    return split


def _compare_url(study) -> str:
    return (
        reverse("api-dashboard-compare")
        + f"?version_a={study['first'].pk}&version_b={study['second'].pk}&cohort={study['cohort'].pk}"
    )


def test_version_against_version_uses_only_cases_in_the_same_subset_of_both_splits(api_client, pi, study):
    """Version B trained on another split: six of A's test cases were in B's training subset. Before, they
    counted as test cases for both versions."""
    own = dict(study["split"].memberships.values_list("case_id", "subset"))
    moved = [pk for pk, s in own.items() if s == "test"][:6]
    study["second"].split = _split_with(study, {**own, **{pk: "training" for pk in moved}}, version=2)
    study["second"].save()
    api_client.force_authenticate(pi)
    body = api_client.get(_compare_url(study)).json()
    assert body["n_common"] == N_INCLUDED - 6 and body["n_different_subsets"] == 6
    assert body["different_subsets"] == {"test / training": 6}
    kept = sorted(pk for pk, s in own.items() if s == "test" and pk not in moved)
    rows = {v: {p.case_id: p for p in study[v].predictions.all()} for v in ("first", "second")}
    truth = np.array([CLASSES.index(rows["first"][pk].true_class) for pk in kept])
    scores = {v: np.array([rows[v][pk].probabilities["osteoporosis"] for pk in kept]) for v in rows}
    expected = stats.delong_test(positive=truth == 2, scores_a=scores["first"], scores_b=scores["second"])
    assert body["splits"][2]["n"] == len(kept)
    assert body["splits"][2]["classes"][2]["test"]["p_value"] == pytest.approx(expected.p_value)


def test_version_against_version_refuses_when_no_case_is_in_the_same_subset_of_both(
    client, api_client, pi, study
):
    rotate = {"training": "validation", "validation": "test", "test": "training"}
    own = dict(study["split"].memberships.values_list("case_id", "subset"))
    study["second"].split = _split_with(study, {pk: rotate[s] for pk, s in own.items()}, version=2)
    study["second"].save()
    api_client.force_authenticate(pi)
    response = api_client.get(_compare_url(study))
    assert response.status_code == 409 and "different subsets" in response.json()["detail"]
    client.force_login(pi)
    page = client.get(
        reverse("inference:dashboard-compare")
        + f"?version_a={study['first'].pk}&version_b={study['second'].pk}&cohort={study['cohort'].pk}"
    )
    assert page.status_code == 200 and "These versions cannot be compared" in page.content.decode()


def test_masks_of_cases_the_segmentation_model_trained_on_are_flagged_on_dashboard_report_and_api(
    client, api_client, pi, study
):
    """Before, nothing said that a test case's predicted mask came from a model that trained on the case."""
    from inference.models import ModelVersion

    own = dict(study["split"].memberships.values_list("case_id", "subset"))
    trained_on = [pk for pk, s in own.items() if s == "test"][:4] + [
        pk for pk, s in own.items() if s == "training"
    ]
    ModelVersion.objects.filter(family="segmentation").update(
        lineage={"training_cases": [{"case_id": pk} for pk in trained_on]}
    )
    client.force_login(pi)
    for name in ("inference:dashboard", "inference:dashboard-report"):
        html = client.get(reverse(name) + _query(study)).content.decode()
        assert "In-sample masks: 4 test case(s)" in html
    api_client.force_authenticate(pi)
    assert any(
        "In-sample masks: 4 test" in w
        for w in api_client.get(reverse("api-dashboard") + _query(study)).json()["warnings"]
    )


def test_masks_of_held_out_cases_only_raise_no_warning(client, pi, study):
    from inference.models import ModelVersion

    own = dict(study["split"].memberships.values_list("case_id", "subset"))
    ModelVersion.objects.filter(family="segmentation").update(
        lineage={"training_cases": [{"case_id": pk} for pk, s in own.items() if s == "training"]}
    )
    client.force_login(pi)
    assert (
        "In-sample masks" not in client.get(reverse("inference:dashboard") + _query(study)).content.decode()
    )


def test_cases_the_classifier_trained_on_never_count_as_held_out_on_another_split(study):
    """Evaluated on another cohort's split, a case of the version's own training subset that the other split
    puts in test would test the model on its training data; it is left out, and the page says so."""
    from cases.models import Cohort
    from inference.evaluation import selectors

    other = Cohort.objects.create(name="Same patients, other split")
    other.cases.set(study["included"])
    own = dict(study["split"].memberships.values_list("case_id", "subset"))
    other_split = _split_with(study, {pk: "test" for pk in own}, version=1, cohort=other)
    cases = selectors.evaluation_cases(
        version=study["first"], cohort=other, mask_source="prediction", split=other_split
    )
    trained = sum(1 for s in own.values() if s == "training")
    assert cases.n_trained_on_held_out == trained
    assert int((cases.subset == "test").sum()) == N_INCLUDED - trained
    assert any("left out of every row" in w for w in selectors.lineage_warnings(cases))


def test_the_predictions_csv_neutralises_a_study_id_that_starts_like_a_formula(client, pi, study):
    from cases.models import Patient

    Patient.objects.filter(pk=study["included"][0].patient_id).update(
        study_id='=HYPERLINK("http://x","open")'
    )
    client.force_login(pi)
    response = client.get(reverse("inference:dashboard-predictions-csv") + _query(study))
    body = response.content.decode()
    assert "'=HYPERLINK" in body and ",=HYPERLINK" not in body
