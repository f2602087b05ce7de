"""Who may call what: every cases/jobs endpoint and page against every role."""

import pytest

ALLOWED = {
    # (method, url template): roles allowed
    ("get", "/api/cases/"): {"reader", "coordinator", "pi", "admin"},
    ("get", "/api/cases/{case}/"): {"coordinator", "pi", "admin"},  # the reader has no assignment for it
    ("post", "/api/cases/import/"): {"coordinator", "admin"},
    ("post", "/api/qct/import/"): {"coordinator", "admin"},
    ("post", "/api/cases/{case}/exclusions/"): {"coordinator", "admin"},
    ("get", "/api/cohorts/"): {"coordinator", "pi", "admin"},
    ("post", "/api/cohorts/create/"): {"coordinator", "admin"},
    ("get", "/api/cohorts/{cohort}/flow/"): {"coordinator", "pi", "admin"},
    ("post", "/api/cohorts/{cohort}/splits/"): {"coordinator", "admin"},
    ("get", "/api/jobs/"): {"reader", "coordinator", "pi", "admin"},
    ("get", "/cases/"): {"reader", "coordinator", "pi", "admin"},
    ("get", "/cases/{case}/"): {"coordinator", "pi", "admin"},
    ("get", "/cases/cohorts/"): {"coordinator", "pi", "admin"},
    ("get", "/cases/cohorts/{cohort}/"): {"coordinator", "pi", "admin"},
}
BODIES = {"/api/cases/{case}/exclusions/": {"reason": "other"}, "/api/cohorts/create/": {"name": "X"}}


@pytest.fixture
def world(make_case):
    from cases.services import cohort_create

    case = make_case()
    return {"case": case.pk, "cohort": cohort_create(name="C", cases=[case]).pk}


@pytest.mark.parametrize("method, template", sorted(ALLOWED))
@pytest.mark.parametrize("role", ["reader", "coordinator", "pi", "admin"])
def test_each_endpoint_admits_exactly_its_roles(request, client, world, method, template, role):
    user = request.getfixturevalue("admin_user" if role == "admin" else role)
    client.force_login(user)
    url = template.format(**world)
    response = (
        getattr(client, method)(url, BODIES.get(template, {}), content_type="application/json")
        if method == "post"
        else client.get(url)
    )
    if role in ALLOWED[(method, template)]:
        assert response.status_code not in (401, 403, 404), (url, response.status_code)
    else:
        assert response.status_code in (403, 404), (url, response.status_code)


@pytest.mark.parametrize("url", ["/api/cases/", "/api/jobs/", "/api/cohorts/"])
def test_anonymous_callers_get_401_or_403(api_client, url):
    assert api_client.get(url).status_code in (401, 403)


def test_a_script_can_authenticate_with_a_token(api_client, coordinator):
    response = api_client.post("/api/token/", {"username": "coordinator", "password": "pw"})
    token = response.json()["token"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api_client.get("/api/cases/").status_code == 200
