"""The OpenAPI schema is complete: every API route is in it with its request and response bodies, and
drf-spectacular generates it without a single warning or error."""

import re

import pytest
import yaml
from django.core.management import call_command
from django.urls import URLPattern, URLResolver

# The schema and its docs page describe the API; they are not part of it.
NOT_DESCRIBED = {"/api/schema/", "/api/docs/"}


@pytest.fixture(scope="module")
def schema(tmp_path_factory, django_db_blocker):
    path = tmp_path_factory.mktemp("schema") / "schema.yaml"
    with django_db_blocker.unblock():
        # --fail-on-warn turns any warning or error of drf-spectacular into a CommandError.
        call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(path))
    return yaml.safe_load(path.read_text())


def api_routes() -> set[str]:
    from osteoscreen.urls import api

    def walk(patterns, prefix):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern):
                yield route

    # drf-spectacular names a `pk` path parameter `id`.
    return {
        re.sub(r"<(?:\w+:)?(\w+)>", lambda m: "{" + ("id" if m[1] == "pk" else m[1]) + "}", "/api/" + r)
        for r in walk(api, "")
    } - NOT_DESCRIBED


def test_drf_spectacular_generates_it_without_a_warning(schema):
    assert schema["openapi"].startswith("3")


def test_every_api_route_is_in_the_schema(schema):
    missing = api_routes() - set(schema["paths"])
    assert not missing, f"routes the schema does not describe: {sorted(missing)}"
    assert "/api/assignments/{id}/revisions/" in schema["paths"]
    assert {"get", "post"} <= set(schema["paths"]["/api/assignments/{id}/revisions/"])


def test_every_write_describes_its_request_body_and_every_operation_its_success_body(schema):
    bodiless_writes = {
        ("post", p)
        for p in schema["paths"]
        if p.endswith(("/promote/", "/retire/", "/submit/", "/restore/", "/cancel/", "/token/revoke/"))
    }
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if method in ("post", "put", "patch") and (method, path) not in bodiless_writes:
                assert operation.get("requestBody", {}).get("content"), f"{method} {path}: no request body"
            successes = {code: r for code, r in operation["responses"].items() if code.startswith("2")}
            assert successes, f"{method} {path}: no success response"
            # 204 No Content says by its code that there is no body to describe.
            assert any("content" in r or code == "204" for code, r in successes.items()), (
                f"{method} {path}: no response body"
            )


@pytest.mark.parametrize(
    "path, field",
    [
        ("/api/cases/import/", "file"),
        ("/api/qct/import/", "file"),
        ("/api/assignments/{id}/revisions/", "labelmap"),
    ],
)
def test_uploads_are_described_as_multipart_files(schema, path, field):
    content = schema["paths"][path]["post"]["requestBody"]["content"]["multipart/form-data"]
    name = content["schema"]["$ref"].rsplit("/", 1)[-1]
    assert schema["components"]["schemas"][name]["properties"][field]["format"] == "binary"


def test_query_parameters_of_the_json_reads_are_described(schema):
    def names(path):
        return {p["name"] for p in schema["paths"][path]["get"].get("parameters", [])}

    assert {"cohort"} <= names("/api/assignments/")
    assert {"cohort", "threshold"} <= names("/api/agreement/")
    assert {"version", "cohort", "mask_source"} <= names("/api/dashboard/")
    assert {"revision"} <= names("/api/assignments/{id}/labelmap/")
