"""The role matrix: who may call each reading endpoint on someone's submitted assignment.

The assignment belongs to `reader`, has one revision and was submitted. A status of 404 means the
caller may not even know the assignment exists; 403 means they know it but may not do this.
"""

import pytest

from reading_helpers import painted, raw_upload

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "owner", "other_reader", "senior", "coordinator", "pi", "admin"]

# endpoint -> expected status per role, in the order of ROLES.
MATRIX = {
    ("get", "/api/assignments/"): [403, 200, 200, 200, 200, 200, 200],
    ("get", "/api/assignments/{a}/revisions/"): [403, 200, 404, 200, 403, 403, 403],
    ("get", "/api/assignments/{a}/labelmap/?revision=current"): [403, 200, 404, 200, 403, 403, 403],
    ("get", "/api/assignments/{a}/volume/"): [403, 200, 404, 200, 403, 403, 403],
    ("get", "/api/assignments/{a}/volume.raw"): [403, 200, 404, 200, 403, 403, 403],
    # The owner's assignment is submitted: it is locked for them (409); others may never restore.
    ("post", "/api/assignments/{a}/revisions/{r}/restore/"): [403, 409, 404, 403, 403, 403, 403],
    ("post", "/api/assignments/{a}/submit/"): [403, 409, 404, 403, 403, 403, 403],
    ("post", "/api/assignments/{a}/return/"): [403, 403, 404, 200, 403, 403, 403],
    ("get", "/api/agreement/"): [403, 200, 200, 200, 200, 200, 200],
    ("get", "/reading/"): [302, 200, 200, 200, 403, 403, 403],
    ("get", "/reading/assignments/{a}/"): [302, 200, 404, 200, 403, 403, 403],
    ("get", "/reading/review/"): [302, 403, 403, 200, 403, 403, 403],
    ("get", "/reading/cohorts/"): [302, 403, 403, 403, 200, 403, 200],
    ("get", "/reading/interobserver/"): [302, 200, 200, 200, 200, 200, 200],
}


@pytest.fixture
def submitted(make_assignment, reader):
    from annotations.services import assignment_submit, revision_save

    assignment = make_assignment(reader=reader)
    upload = raw_upload(painted(assignment.case))
    revision_save(
        assignment=assignment, user=reader, content=upload.read(), filename=upload.name, base_revision_id=None
    )
    assignment.refresh_from_db()
    return assignment_submit(assignment=assignment, user=reader)


@pytest.fixture
def users(reader, reader2, senior, coordinator, pi, admin_user):
    return {
        "anonymous": None,
        "owner": reader,
        "other_reader": reader2,
        "senior": senior,
        "coordinator": coordinator,
        "pi": pi,
        "admin": admin_user,
    }


@pytest.mark.parametrize(("method", "template"), list(MATRIX))
@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_what_the_matrix_says(client, submitted, users, role, method, template):
    user = users[role]
    if user is not None:
        client.force_login(user)
    url = template.format(a=submitted.pk, r=submitted.current_revision_id)

    data = {"comment": "Please include the lesser trochanter."} if url.endswith("/return/") else {}
    response = getattr(client, method)(url, data)

    assert response.status_code == MATRIX[(method, template)][ROLES.index(role)]
