"""Sign-in hardening: lockout per account and per client on the login page and the token endpoint,
the standard password checks (12 characters at least), tokens that expire and can be revoked, and
sessions that end after inactivity."""

from datetime import datetime, timedelta

import pytest
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

RIGHT = "pw"


@pytest.fixture
def limit(settings):
    return settings.AXES_FAILURE_LIMIT


def login_page(username, password, ip="10.0.0.1"):
    return Client(REMOTE_ADDR=ip).post("/login/", {"username": username, "password": password})


def token_endpoint(username, password, ip="10.0.0.1"):
    return APIClient(REMOTE_ADDR=ip).post("/api/token/", {"username": username, "password": password})


SIGN_INS = {"login page": login_page, "token endpoint": token_endpoint}


def signed_in(response) -> bool:
    if response["Content-Type"].startswith("application/json"):
        return response.status_code == 200 and "token" in response.json()
    return response.status_code == 302


@pytest.mark.parametrize("path", SIGN_INS)
def test_repeated_failures_lock_the_account_even_from_other_clients(coordinator, limit, path):
    sign_in = SIGN_INS[path]
    for attempt in range(limit):
        assert not signed_in(sign_in("coordinator", "wrong", ip=f"10.0.1.{attempt}"))
    locked = sign_in("coordinator", RIGHT, ip="10.0.2.1")
    assert locked.status_code == 429
    assert "Try again in 15 minutes" in locked.content.decode()
    assert int(locked["Retry-After"]) == 15 * 60


@pytest.mark.parametrize("path", SIGN_INS)
def test_repeated_failures_lock_the_client_even_for_other_accounts(coordinator, pi, limit, path):
    sign_in = SIGN_INS[path]
    for attempt in range(limit):
        sign_in(f"guess{attempt}", "wrong", ip="10.0.3.3")
    assert sign_in("pi", RIGHT, ip="10.0.3.3").status_code == 429
    assert signed_in(sign_in("pi", RIGHT, ip="10.0.3.4"))


def test_the_locked_login_page_is_in_the_sites_style(coordinator, limit):
    for _ in range(limit):
        login_page("coordinator", "wrong")
    body = login_page("coordinator", RIGHT).content.decode()
    assert 'class="topbar"' in body and "Sign-in locked" in body


def test_the_locked_token_endpoint_answers_json(coordinator, limit):
    for _ in range(limit):
        token_endpoint("coordinator", "wrong")
    locked = token_endpoint("coordinator", RIGHT)
    assert locked.status_code == 429 and "Try again in" in locked.json()["detail"]


def test_failures_on_the_login_page_count_for_the_token_endpoint_too(coordinator, limit):
    for _ in range(limit):
        login_page("coordinator", "wrong", ip="10.0.4.1")
    assert token_endpoint("coordinator", RIGHT, ip="10.0.4.2").status_code == 429


def test_a_success_before_the_limit_starts_the_count_again(coordinator, limit):
    for _ in range(limit - 1):
        login_page("coordinator", "wrong")
    assert signed_in(login_page("coordinator", RIGHT))
    for _ in range(limit - 1):
        login_page("coordinator", "wrong")
    assert signed_in(login_page("coordinator", RIGHT))


@pytest.mark.parametrize("weak", ["password", "12345678", "123456789012", "short-pw-11", "coordinator-2024"])
def test_weak_passwords_are_refused(coordinator, weak):
    with pytest.raises(ValidationError):
        validate_password(weak, user=coordinator)


def test_a_long_uncommon_password_is_accepted(coordinator):
    validate_password("femoral neck lamp 47", user=coordinator)


def test_the_admin_site_refuses_a_weak_password_for_a_new_user(client, admin_user):
    from django.contrib.auth.models import User

    client.force_login(admin_user)
    response = client.post(
        "/admin/auth/user/add/",
        {
            "username": "newreader",
            "password1": "12345678",
            "password2": "12345678",
            "usable_password": "true",
        },
    )
    assert response.status_code == 200 and not User.objects.filter(username="newreader").exists()


def test_demo_users_keep_the_passwords_make_demo_prints(db):
    from django.contrib.auth import authenticate
    from django.core.management import call_command

    call_command("create_demo_users", stdout=open("/dev/null", "w"))
    assert authenticate(Client().request().wsgi_request, username="pi", password="pi-demo") is not None


def a_token(coordinator) -> str:
    response = token_endpoint("coordinator", RIGHT)
    assert response.status_code == 200
    return response.json()["token"]


def cases_with(token):
    return APIClient(HTTP_AUTHORIZATION=f"Token {token}").get("/api/cases/")


def test_a_token_says_when_it_expires_one_working_day_after_issue(coordinator, settings):
    assert settings.API_TOKEN_LIFETIME == timedelta(hours=8)
    body = token_endpoint("coordinator", RIGHT).json()
    expires = datetime.fromisoformat(body["expires_at"])
    assert abs((expires - timezone.now()) - timedelta(hours=8)) < timedelta(minutes=1)


def test_an_expired_token_is_refused_and_a_new_one_is_issued(coordinator):
    token = a_token(coordinator)
    assert cases_with(token).status_code == 200
    Token.objects.filter(key=token).update(created=timezone.now() - timedelta(hours=8, seconds=1))
    refused = cases_with(token)
    # 403 rather than 401: DRF answers with the first authentication class's header, and that is the session's.
    assert refused.status_code in (401, 403) and "expired" in refused.json()["detail"]
    fresh = a_token(coordinator)
    assert fresh != token and cases_with(fresh).status_code == 200


def test_a_revoked_token_is_refused(coordinator):
    token = a_token(coordinator)
    assert APIClient(HTTP_AUTHORIZATION=f"Token {token}").post("/api/token/revoke/").status_code == 204
    assert cases_with(token).status_code in (401, 403)
    assert cases_with(token).json()["detail"] == "Invalid token."


def test_a_session_ends_after_eight_idle_hours_and_each_request_moves_the_end_on(
    client, coordinator, settings
):
    assert settings.SESSION_COOKIE_AGE == 8 * 3600
    client.force_login(coordinator)
    session = Session.objects.get()
    soon = timezone.now() + timedelta(minutes=5)
    Session.objects.filter(pk=session.pk).update(expire_date=soon)
    store = client.session
    store["_touched_at"] = 0
    store.save()
    Session.objects.filter(pk=session.pk).update(expire_date=soon)
    assert client.get("/cases/").status_code == 200
    assert Session.objects.get(pk=session.pk).expire_date > timezone.now() + timedelta(hours=7, minutes=59)
    Session.objects.filter(pk=session.pk).update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get("/cases/")
    assert response.status_code == 302 and "/login/" in response["Location"]
