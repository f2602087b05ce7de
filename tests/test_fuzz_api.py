"""Property-based fuzzing of every operation of the OpenAPI schema (schemathesis), as each role and as an
anonymous caller: no answer is a 5xx, and every documented answer matches the schema.

The example count per operation is bounded (FUZZ_EXAMPLES, default 4) so that the whole run stays within
a couple of minutes on two cores; raise it locally to search harder: FUZZ_EXAMPLES=200 pytest tests/test_fuzz_api.py
(FUZZ_PATHS=REGEX limits the run to the matching paths).
"""

import json
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "4"))
ROLES = ["reader", "coordinator", "pi", "admin", None]
# The health check asks the broker and the workers over the network with timeouts of seconds; it is
# tested on its own (tests/test_health_and_schema.py) and would only make this run slow.
NOT_FUZZED = {"/api/health/"}


@pytest.fixture
def study(db, make_case, tmp_path):
    """A small study for the generated ids to land on: users of every role, cases, a cohort, reading."""
    from rest_framework.authtoken.models import Token

    from accounts.roles import Role
    from accounts.services import user_create_with_role
    from annotations.services import assignment_create
    from cases.models import Cohort

    users = {
        role: user_create_with_role(username=f"fuzz-{role}", password="pw", role=Role(role))
        for role in ("reader", "coordinator", "pi", "admin")
    }
    cases = [make_case() for _ in range(3)]
    cohort = Cohort.objects.create(name="Fuzz")
    cohort.cases.add(*cases)
    for case in cases:
        assignment_create(
            case=case,
            reader=users["reader"],
            cohort=cohort,
            created_by=users["coordinator"],
            study_role="primary",
        )
    return {role: Token.objects.create(user=user).key for role, user in users.items()}


@pytest.fixture
def api_schema(db):
    from django.core.signals import request_finished, request_started
    from django.core.wsgi import get_wsgi_application
    from django.db import close_old_connections
    from drf_spectacular.generators import SchemaGenerator

    raw = json.loads(json.dumps(SchemaGenerator().get_schema(request=None, public=True), default=str))
    for path in NOT_FUZZED:
        raw["paths"].pop(path, None)
    schema: schemathesis.BaseSchema = schemathesis.openapi.from_dict(raw)
    if os.environ.get("FUZZ_PATHS"):  # e.g. FUZZ_PATHS='^/api/cases/' to search one part of the API harder
        schema = schema.include(path_regex=os.environ["FUZZ_PATHS"])
    schema.app = get_wsgi_application()
    # The WSGI handler closes the database connection after each request, which would end the test's
    # transaction; Django's own test client detaches the same handlers while it runs.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield schema
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_no_operation_answers_5xx_or_off_schema(case, study):
    # Each generated request is sent as every role, so one example probes every permission path.
    for role in ROLES:
        headers = {"Authorization": f"Token {study[role]}"} if role else {}
        case.call_and_validate(headers=headers, checks=[not_a_server_error, response_schema_conformance])
