"""The first slice comes early: the volume endpoint answers a byte range with just those bytes, so the
page can fetch and draw the slice it opens on while the whole CT is still streaming."""

import numpy as np
import pytest

pytestmark = pytest.mark.django_db


def whole_volume(client, assignment) -> bytes:
    return b"".join(client.get(f"/api/assignments/{assignment.pk}/volume.raw").streaming_content)


def test_a_byte_range_of_the_volume_is_exactly_that_slice(client_of_reader, reader, make_assignment):
    assignment = make_assignment(reader=reader, size=(24, 20, 16))
    nx, ny, nz = assignment.case.size
    slice_bytes = nx * ny * 2
    z = nz // 2
    volume = np.frombuffer(whole_volume(client_of_reader, assignment), "<i2").reshape(nz, ny, nx)

    response = client_of_reader.get(
        f"/api/assignments/{assignment.pk}/volume.raw",
        HTTP_RANGE=f"bytes={z * slice_bytes}-{(z + 1) * slice_bytes - 1}",
    )

    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes {z * slice_bytes}-{(z + 1) * slice_bytes - 1}/{volume.nbytes}"
    assert np.array_equal(np.frombuffer(response.content, "<i2").reshape(ny, nx), volume[z])


@pytest.mark.parametrize("header", ["bytes=0-1,4-5", "bytes=999999999-", "items=0-3", "bytes=x-3"])
def test_an_unusable_range_gets_the_whole_volume(client_of_reader, reader, make_assignment, header):
    assignment = make_assignment(reader=reader, size=(24, 20, 16))

    response = client_of_reader.get(f"/api/assignments/{assignment.pk}/volume.raw", HTTP_RANGE=header)

    assert response.status_code == 200
    assert len(b"".join(response.streaming_content)) == 24 * 20 * 16 * 2


def test_a_range_is_blinded_like_the_whole_volume(api_client, reader, reader2, make_assignment):
    assignment = make_assignment(reader=reader, size=(24, 20, 16))
    api_client.force_authenticate(reader2)

    response = api_client.get(f"/api/assignments/{assignment.pk}/volume.raw", HTTP_RANGE="bytes=0-99")

    assert response.status_code in (403, 404)
