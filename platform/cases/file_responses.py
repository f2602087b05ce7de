"""How a stored file leaves the server, once the view in front of it has checked the role and the blinding.

Without a front server, Django streams it (FileResponse reads in blocks; the file is never held whole in
memory). When FILES_X_ACCEL_REDIRECT_PREFIX names an internal location of a front server (nginx:
`location /protected-media/ { internal; alias <MEDIA_ROOT>/; }`), the view answers only the header
X-Accel-Redirect and the front server sends the bytes: the web worker is free at once.
"""

from pathlib import Path

from django.conf import settings
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, HttpResponse
from django.http.response import HttpResponseBase
from django.utils.http import content_disposition_header


def stored_file_response(
    file: FieldFile | Path,
    *,
    content_type: str = "application/octet-stream",
    download_name: str | None = None,
) -> HttpResponseBase:
    """`file`: a model's stored file (any storage backend) or a path under MEDIA_ROOT (a cached copy)."""
    prefix = settings.FILES_X_ACCEL_REDIRECT_PREFIX
    response: HttpResponseBase
    if prefix:
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = prefix.rstrip("/") + "/" + _media_relative(file)
    else:
        response = FileResponse(file.open("rb"), content_type=content_type)
    if download_name:
        response["Content-Disposition"] = content_disposition_header(True, download_name)
    return response


def _media_relative(file: FieldFile | Path) -> str:
    if isinstance(file, FieldFile):
        return str(file.name)
    # Only files under MEDIA_ROOT exist for the front server's internal location; anything else is a bug.
    return file.resolve().relative_to(Path(settings.MEDIA_ROOT).resolve()).as_posix()
