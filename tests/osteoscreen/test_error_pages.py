"""No Django debug page and no traceback, for any role: the site's own 403/404/500 pages (with the
navigation) for pages, JSON for the API."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ROLES = ["anonymous", "reader", "coordinator", "pi", "admin_user"]
TRACEBACK_MARKS = ["Traceback", "RuntimeError", "error_urls.py", "Django settings", "DEBUG = True"]

sys.path.insert(0, str(Path(__file__).parent))
from error_urls import SECRET_IN_TRACEBACK  # noqa: E402


@pytest.fixture
def browser_as(client, request):
    def signed_in(role):
        if role != "anonymous":
            client.force_login(request.getfixturevalue(role))
        return client

    return signed_in


@pytest.fixture
def failing_site(settings, client):
    settings.ROOT_URLCONF = "error_urls"
    settings.DEBUG = False
    client.raise_request_exception = False
    return client


def assert_site_page(response, status, heading):
    body = response.content.decode()
    assert response.status_code == status
    assert f"{heading} ({status})" in body
    assert 'class="topbar"' in body and "site.css" in body
    for mark in TRACEBACK_MARKS + [SECRET_IN_TRACEBACK]:
        assert mark not in body


@pytest.mark.parametrize("role", ROLES)
def test_an_unknown_page_gets_the_sites_404_page(browser_as, role):
    response = browser_as(role).get("/no-such-page/")
    assert_site_page(response, 404, "Not found")
    if role != "anonymous":
        assert "Log out" in response.content.decode()


@pytest.mark.parametrize("role", ["reader"])
def test_a_page_outside_the_role_gets_the_sites_403_page_saying_which_roles_may(browser_as, role):
    response = browser_as(role).get("/models/")
    assert_site_page(response, 403, "Not allowed")
    assert "needs one of these roles" in response.content.decode()


@pytest.mark.parametrize("role", ROLES)
def test_a_failing_page_gets_the_sites_500_page_without_a_traceback(failing_site, failing_site_as, role):
    response = failing_site_as(role).get("/failing/")
    assert_site_page(response, 500, "Server error")


@pytest.fixture
def failing_site_as(failing_site, request):
    def signed_in(role):
        if role != "anonymous":
            failing_site.force_login(request.getfixturevalue(role))
        return failing_site

    return signed_in


def test_a_failing_endpoint_answers_json_without_a_traceback(failing_site, pi):
    failing_site.force_login(pi)
    response = failing_site.get("/api/failing/")
    assert response.status_code == 500 and response["Content-Type"] == "application/json"
    assert set(response.json()) == {"detail"} and SECRET_IN_TRACEBACK not in response.content.decode()


def test_an_unknown_endpoint_answers_json(client, pi):
    client.force_login(pi)
    response = client.get("/api/no-such-endpoint/")
    assert response.status_code == 404 and "detail" in response.json()


def test_a_refused_form_gets_the_sites_403_page(db, reader):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post("/login/", {"username": "reader1", "password": "x"})
    assert_site_page(response, 403, "Not allowed")


@pytest.mark.parametrize(
    "entry",
    [
        "import osteoscreen.wsgi",
        "import osteoscreen.celery_app, django; django.setup()",
    ],
)
def test_the_web_server_and_the_workers_run_with_debug_off_unless_a_developer_turns_it_on(entry):
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DJANGO_DEBUG")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "platform"), str(ROOT)])
    code = f"{entry}; from django.conf import settings; print(settings.SETTINGS_MODULE, settings.DEBUG)"
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[-2:] == ["osteoscreen.settings.local", "False"]


def test_management_commands_run_with_debug_off_unless_a_developer_turns_it_on():
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DJANGO_DEBUG")}
    code = "from django.conf import settings; print(settings.DEBUG)"
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[-1] == "False"
    turned_on = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        env={**env, "DJANGO_DEBUG": "1"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert turned_on.stdout.split()[-1] == "True"
