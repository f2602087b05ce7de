"""Headless Chromium crawls the site as each demo user: it signs in through the login form, then opens
every link of the navigation and every page reachable from it, and finds no console error, no failed
request, no HTTP error, no template text and no bare or debug error page."""

import datetime as dt
import io
import re
from collections import deque
from urllib.parse import urljoin, urlparse

import pytest
from browser_helpers import launch, sync_api_or_skip
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from annotations.services import assignments_create_for_cohort
from cases.services import SplitParams, cohort_create, exclusion_add, qct_set, split_create
from inference.training.versions import model_version_create
from jobs.models import Job

from selftest_job import SELFTEST_JOB

DEMO_PASSWORDS = {
    "reader1": "reader1-demo",
    "reader2": "reader2-demo",
    "coordinator": "coordinator-demo",
    "pi": "pi-demo",
    "admin": "admin-demo",
}
# Not pages of the site: Django's own admin, signing out, files and the raw API (the API docs page is
# crawled, its links are not).
SKIPPED = re.compile(r"^/(admin/|logout/|static/|media/|api/(?!docs/$))")
DOWNLOAD = re.compile(r"\.(png|csv|zip|nii|gz|pdf|joblib|pt)$|/files/")
TEMPLATE_TEXT = ("{#", "#}", "{{", "}}", "{%", "%}")
# A Python dict or list printed for a person to read ("{'seed': 0, ...}", "[{'case': 3}]"): the page should
# have labelled its values. JSON inside <script> or <pre> blocks is not visible text and is not matched.
RAW_DICT = re.compile(r"[{\[]\s*'[^'\n]{1,40}'\s*:")
DEBUG_OR_BARE = ("Traceback", "Page not found (404)", "Server Error (500)", "<h1>Forbidden", "<h1>Not Found")
# Pages that differ only by their ids are the same page: a few of each are enough.
SAME_PAGE_LIMIT = 2
PAGE_LIMIT = 60


@pytest.fixture
def study(db, make_case):
    """A small study in every state a page can show: QCT, an exclusion, a cohort with a split, reading
    assigned (interobserver and primary), a running and a failed job, a trained model version."""
    call_command("create_demo_users", stdout=io.StringIO())
    users = {u.username: u for u in get_user_model().objects.all()}
    cases = [
        make_case(
            study_id=f"SYN-{i:04d}",
            size=(24, 20, 16),
            exam_datetime=dt.datetime(2024, 1 + i, 3, 9, tzinfo=dt.UTC),
        )
        for i in range(1, 9)
    ]
    for i, case in enumerate(cases):
        qct_set(
            case=case,
            qct_date=dt.date(2024, 1 + i + 1, 5),
            days_from_ct=2 - i,
            values={"femoral_neck_bmd": 0.6 + i / 20, "femoral_neck_t": -3.0 + i / 2, "bmd_unit": "g/cm2"},
        )
    exclusion_add(case=cases[-1], reason="hip_fracture", note="right neck")
    cohort = cohort_create(name="Crawl study", cases=cases)
    split_create(
        cohort=cohort, params=SplitParams(seed=1, test_fraction=0.25, validation_fraction=0.3, stratify=False)
    )
    assignments_create_for_cohort(
        cohort=cohort,
        primary_reader=users["reader1"],
        second_reader=users["reader2"],
        created_by=users["coordinator"],
        interobserver_count=1,
    )
    Job.objects.create(
        kind=SELFTEST_JOB,
        owner=users["pi"],
        status=Job.Status.RUNNING,
        progress=40,
        message="step 4/10",
        started_at=timezone.now(),
        heartbeat_at=timezone.now(),
    )
    Job.objects.create(
        kind="cases.import_file",
        owner=users["coordinator"],
        status=Job.Status.FAILED,
        params={"subject": "SYN-0099.nii.gz"},
        error="SYN-0099.nii.gz: not a NIfTI file",
        finished_at=timezone.now(),
    )
    model_version_create(family="classifier", name="radiomics RF on Crawl study", owner=users["pi"])
    return cohort


def page_problems(page, response, path: str) -> list[str]:
    problems = []
    if response is None or response.status >= 400:
        problems.append(f"{path}: HTTP {response.status if response else 'no answer'}")
    html = page.content()
    body_text = page.inner_text("body")
    problems += [f"{path}: template text {t!r} on the page" for t in TEMPLATE_TEXT if t in body_text]
    problems += [f"{path}: a raw dict on the page ({m.group(0)!r})" for m in RAW_DICT.finditer(body_text)][:1]
    problems += [f"{path}: bare or debug error page ({m!r})" for m in DEBUG_OR_BARE if m in html]
    if not path.startswith("/api/docs/") and page.locator("header.topbar").count() != 1:
        problems.append(f"{path}: not in the site's layout")
    return problems


def links_of(page, base: str) -> list[str]:
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
    found = []
    for href in hrefs:
        url = urlparse(urljoin(base, href))
        if url.netloc == urlparse(base).netloc and url.path:
            found.append(url.path + (f"?{url.query}" if url.query else ""))
    return found


def navigated_away(request) -> bool:
    """A live page's background poll cut short because the crawl opened the next page: the browser's
    doing, not a request the site failed."""
    return request.resource_type in ("fetch", "xhr") and "ERR_ABORTED" in (request.failure or "")


def crawl_as(browser, live_url: str, username: str) -> tuple[list[str], list[str]]:
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: m.type == "error" and problems.append(f"{page.url}: console: {m.text}"))
    page.on("pageerror", lambda e: problems.append(f"{page.url}: script error: {e}"))
    page.on(
        "requestfailed",
        lambda r: (
            None
            if navigated_away(r)
            else problems.append(f"{page.url}: failed request {r.url} ({r.failure})")
        ),
    )
    page.on(
        "response", lambda r: r.status >= 400 and problems.append(f"{page.url}: HTTP {r.status} for {r.url}")
    )
    page.goto(f"{live_url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORDS[username])
    page.click("button[type=submit]")
    page.wait_for_selector("header.topbar nav")
    queue, seen, per_pattern, visited = deque(links_of(page, page.url) + ["/"]), set(), {}, []
    while queue and len(visited) < PAGE_LIMIT:
        path = queue.popleft()
        pattern = re.sub(r"\d+", "N", path)
        if path in seen or SKIPPED.match(path) or per_pattern.get(pattern, 0) >= SAME_PAGE_LIMIT:
            continue
        seen.add(path)
        per_pattern[pattern] = per_pattern.get(pattern, 0) + 1
        if DOWNLOAD.search(urlparse(path).path):
            answer = context.request.get(f"{live_url}{path}")
            if answer.status >= 400:
                problems.append(f"{path}: HTTP {answer.status} (a link to a file)")
            continue
        response = page.goto(f"{live_url}{path}", wait_until="networkidle")
        if path.startswith("/api/docs/"):
            # The docs page fetches the schema, which takes a few seconds to build; wait until it is drawn.
            page.wait_for_selector(".swagger-ui .info", timeout=60000)
        visited.append(path)
        problems += page_problems(page, response, path)
        if not path.startswith("/api/docs/"):
            queue.extend(links_of(page, page.url))
    context.close()
    return visited, problems


@pytest.mark.browser
@pytest.mark.parametrize("username", ["reader1", "reader2", "coordinator", "pi", "admin"])
def test_every_page_a_role_reaches_is_whole_and_quiet(live_server, study, username, monkeypatch):
    sync_api = sync_api_or_skip()
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as playwright:
        browser = launch(playwright)
        visited, problems = crawl_as(browser, live_server.url, username)
        browser.close()
    assert len(visited) >= 5, visited
    assert problems == [], "\n".join(problems)
