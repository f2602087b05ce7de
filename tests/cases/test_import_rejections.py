"""Every kind of bad input gets a 400 naming the problem, and stores neither a row nor a file."""

import gzip
import io
import math
import os
import stat
import zipfile
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from cases.models import Case, Patient

from volumes import write_test_volume


def stored_files(media_root) -> list[str]:
    return [str(p) for p in Path(media_root).rglob("*") if p.is_file() and "staging" not in p.parts]


def upload(api_client, user, path: Path, name: str | None = None, **fields):
    api_client.force_authenticate(user)
    with open(path, "rb") as fh:
        return api_client.post(
            "/api/cases/import/", {"file": (fh), "study_id": "S-1", **fields}, format="multipart"
        )


@pytest.fixture
def nothing_stored(settings):
    def check():
        assert Case.objects.count() == 0
        assert Patient.objects.count() == 0
        assert stored_files(settings.MEDIA_ROOT) == []
        staging = Path(settings.MEDIA_ROOT) / "staging"
        assert not staging.exists() or list(staging.iterdir()) == []

    return check


def nifti_with(
    tmp_path, *, shape=(16, 16, 16), pixdim=(1.0, 1.0, 1.0), affine=None, dtype=np.int16, name="bad.nii.gz"
):
    data = np.full(shape, -1000, dtype=dtype)
    data[2:6, 2:6, :] = 800
    image = nib.Nifti1Image(data, affine if affine is not None else np.diag([*pixdim, 1.0]))
    image.header.set_zooms(pixdim[: len(shape)])
    path = tmp_path / name
    nib.save(image, path)
    return path


def patch_header(path: Path, field: str, values) -> Path:
    """Writes header fields directly, bypassing nibabel's own sanity fixes (like a hostile file would)."""
    raw = bytearray(gzip.decompress(path.read_bytes()))
    header = nib.Nifti1Header(bytes(raw[:348]), check=False)
    header[field] = values
    raw[:348] = header.binaryblock
    path.write_bytes(gzip.compress(bytes(raw)))
    return path


def test_a_good_nifti_imports_and_is_stored_with_its_sha256(api_client, coordinator, tmp_path, settings):
    response = upload(api_client, coordinator, write_test_volume(tmp_path / "ok.nii.gz"))
    assert response.status_code == 201, response.json()
    case = Case.objects.get()
    assert response.json()["volume_sha256"] == case.volume_sha256
    assert len(stored_files(settings.MEDIA_ROOT)) == 1


def test_reimporting_the_same_series_does_not_duplicate_it(api_client, coordinator, tmp_path):
    path = write_test_volume(tmp_path / "ok.nii.gz")
    assert upload(api_client, coordinator, path).status_code == 201
    again = upload(api_client, coordinator, path)
    assert again.status_code == 200 and again.json()["created"] is False
    assert Case.objects.count() == 1


def test_it_rejects_a_file_that_is_not_an_image(api_client, coordinator, tmp_path, nothing_stored):
    path = tmp_path / "notes.nii.gz"
    path.write_bytes(gzip.compress(b"these are meeting notes, not a CT" * 20))
    response = upload(api_client, coordinator, path)
    assert response.status_code == 400
    assert "NIfTI" in response.json()["detail"]
    nothing_stored()


def test_it_rejects_an_unknown_file_type(api_client, coordinator, tmp_path, nothing_stored):
    path = tmp_path / "scan.png"
    path.write_bytes(b"\x89PNG....")
    response = upload(api_client, coordinator, path)
    assert response.status_code == 400
    nothing_stored()


def test_it_checks_the_declared_size_before_decompressing(
    api_client, coordinator, tmp_path, nothing_stored, settings
):
    # A small file whose header declares 4000 x 4000 x 4000 int16 voxels (128 GB): refused from the header.
    path = patch_header(nifti_with(tmp_path), "dim", [3, 4000, 4000, 4000, 1, 1, 1, 1])
    assert path.stat().st_size < 10_000
    response = upload(api_client, coordinator, path)
    assert response.status_code == 400
    assert "declares" in response.json()["detail"] and "voxels" in response.json()["detail"]
    nothing_stored()


@pytest.mark.parametrize(
    "dims", [[3, 1, 8, 6, 1, 1, 1, 1], [3, 8, 8, 30000, 1, 1, 1, 1], [4, 8, 8, 6, 5, 1, 1, 1]]
)
def test_it_rejects_absurd_dimensions(api_client, coordinator, tmp_path, nothing_stored, dims):
    path = patch_header(nifti_with(tmp_path), "dim", dims)
    response = upload(api_client, coordinator, path)
    assert response.status_code == 400, response.json()
    nothing_stored()


@pytest.mark.parametrize("bad", [math.nan, 0.0, -1.0, 12.0])
def test_it_rejects_bad_voxel_spacing(api_client, coordinator, tmp_path, nothing_stored, bad):
    path = patch_header(nifti_with(tmp_path), "pixdim", [1.0, 1.0, bad, 1.0, 1.0, 1.0, 1.0, 1.0])
    response = upload(api_client, coordinator, path)
    assert response.status_code == 400
    assert "spacing" in response.json()["detail"]
    nothing_stored()


def test_it_rejects_a_non_orthonormal_direction(api_client, coordinator, tmp_path, nothing_stored):
    sheared = np.array([[1.0, 0.6, 0, 0], [0, 1.0, 0, 0], [0, 0, 1.0, 0], [0, 0, 0, 1]])
    path = nifti_with(tmp_path, affine=sheared)
    image = nib.load(path)
    assert isinstance(image, nib.Nifti1Image)
    image.set_qform(None, code=0)
    image.set_sform(sheared, code=1)
    nib.save(image, path)
    response = upload(api_client, coordinator, path)
    assert response.status_code == 400
    assert "orthonormal" in response.json()["detail"] or "direction" in response.json()["detail"]
    nothing_stored()


def test_it_rejects_an_image_that_is_not_in_hounsfield_units(
    api_client, coordinator, tmp_path, nothing_stored
):
    path = tmp_path / "normalised.nii.gz"
    nib.save(
        nib.Nifti1Image(np.random.default_rng(0).random((16, 16, 16)).astype(np.float32), np.eye(4)), path
    )
    response = upload(api_client, coordinator, path)
    assert response.status_code == 400
    assert "Hounsfield" in response.json()["detail"]
    nothing_stored()


def _zip_with(tmp_path, entries: list[tuple[str, bytes, int | None]]) -> Path:
    path = tmp_path / "series.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for name, data, mode in entries:
            info = zipfile.ZipInfo(name)
            if mode is not None:
                info.external_attr = mode << 16
            zf.writestr(info, data)
    return path


@pytest.mark.parametrize(
    "entry",
    [
        ("../../etc/evil.dcm", b"x", None),
        ("/abs/evil.dcm", b"x", None),
        ("link.dcm", b"/etc/passwd", stat.S_IFLNK | 0o777),
    ],
)
def test_it_rejects_zip_entries_that_escape_or_link(api_client, coordinator, tmp_path, nothing_stored, entry):
    path = _zip_with(tmp_path, [("series/ok.dcm", b"DICM", None), entry])
    response = upload(api_client, coordinator, path)
    assert response.status_code == 400
    assert any(word in response.json()["detail"] for word in ("outside", "absolute", "link"))
    nothing_stored()
    assert not (tmp_path.parent / "evil.dcm").exists()


def test_it_rejects_a_zip_without_a_dicom_series(api_client, coordinator, tmp_path, nothing_stored):
    response = upload(api_client, coordinator, _zip_with(tmp_path, [("readme.txt", b"hello", None)]))
    assert response.status_code == 400
    assert "DICOM" in response.json()["detail"]
    nothing_stored()


def test_it_rejects_dicom_with_nan_pixel_spacing(api_client, coordinator, tmp_path, nothing_stored):
    from dicom_helpers import write_ct_series, zip_folder

    folder = write_ct_series(tmp_path / "s", pixel_spacing=["NaN", "0.8"])
    response = upload(api_client, coordinator, zip_folder(folder, tmp_path / "s.zip"))
    assert response.status_code == 400
    assert "spacing" in response.json()["detail"]
    nothing_stored()


_ = (io, os)
