"""The reader's pages: the worklist says what to do next; the viewer page carries the viewer's config."""

import json
import re

import pytest

from reading_helpers import painted, raw_upload

pytestmark = pytest.mark.django_db


def viewer_config(html: str) -> dict:
    found = re.search(r'<script id="viewer-config" type="application/json">(.*?)</script>', html, re.S)
    assert found, "the viewer page carries no viewer-config block"
    return json.loads(found.group(1))


def test_the_worklist_lists_the_readers_assignments_and_the_next_one(
    client, make_assignment, reader, reader2
):
    mine = [make_assignment(reader=reader) for _ in range(2)]
    make_assignment(reader=reader2)
    client.force_login(reader)

    page = client.get("/reading/").content.decode()

    assert page.count("data-assignment=") == 2
    assert f'href="/reading/assignments/{mine[0].pk}/"' in page
    assert "0</b> of <b>2</b> VOIs submitted" in page


def test_the_viewer_page_gives_the_viewer_its_urls_and_the_current_revision(client, make_assignment, reader):
    from annotations.services import revision_save

    assignment = make_assignment(reader=reader)
    upload = raw_upload(painted(assignment.case))
    revision = revision_save(
        assignment=assignment, user=reader, content=upload.read(), filename=upload.name, base_revision_id=None
    )
    client.force_login(reader)

    config = viewer_config(client.get(f"/reading/assignments/{assignment.pk}/").content.decode())

    assert config["assignmentId"] == assignment.pk
    assert config["currentRevisionId"] == revision.pk
    assert config["readOnly"] is False
    assert config["urls"]["revisions"] == f"/api/assignments/{assignment.pk}/revisions/"
    assert config["urls"]["volumeRaw"] == f"/api/assignments/{assignment.pk}/volume.raw"
    assert config["csrfToken"]


def test_the_viewer_page_names_the_site_once_in_its_title(client, make_assignment, reader):
    assignment = make_assignment(reader=reader)
    client.force_login(reader)

    page = client.get(f"/reading/assignments/{assignment.pk}/").content.decode()

    study_id = assignment.case.patient.study_id
    assert f"<title>VOI {study_id} · OsteoScreen</title>" in page


def test_a_senior_reviewing_sees_the_viewer_read_only(client, make_assignment, reader, senior):
    from annotations.services import assignment_submit, revision_save

    assignment = make_assignment(reader=reader)
    upload = raw_upload(painted(assignment.case))
    revision_save(
        assignment=assignment, user=reader, content=upload.read(), filename=upload.name, base_revision_id=None
    )
    assignment.refresh_from_db()
    assignment_submit(assignment=assignment, user=reader)
    client.force_login(senior)

    config = viewer_config(client.get(f"/reading/assignments/{assignment.pk}/").content.decode())
    review_page = client.get("/reading/review/").content.decode()

    assert config["readOnly"] is True
    assert f'data-assignment="{assignment.pk}"' in review_page
