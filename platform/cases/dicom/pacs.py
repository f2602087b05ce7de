"""PACS over DICOMweb: search studies (QIDO-RS), retrieve them (WADO-RS), send results (STOW-RS).

Endpoints come from settings (`PACS_ENDPOINTS`: a JSON list of {"name", "url", "username", "password"}).
Credentials stay here: an endpoint's repr, its public view and every error message leave them out.
The StudyInstanceUIDs a search finds are handed to the page and the API only sealed (a token), so no
UID is ever shown; the token comes back to pick the studies to import.
"""

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pydicom
import requests
from dicomweb_client.api import DICOMwebClient
from django.conf import settings

from ..validation import ImportRejected
from .source import seal, unseal

SEARCH_LIMIT = 200
TIMEOUT_SECONDS = 60
SEARCH_FIELDS = [
    "StudyDate",
    "StudyTime",
    "StudyDescription",
    "ModalitiesInStudy",
    "NumberOfStudyRelatedSeries",
    "NumberOfStudyRelatedInstances",
]


class PacsError(ImportRejected):
    """The PACS is unreachable or refused; the message names no credentials."""

    status_code = 502


class PacsRequestInvalid(PacsError):
    """An unknown PACS name or a study token this platform did not make."""

    status_code = 400


@dataclass(frozen=True)
class PacsEndpoint:
    name: str
    url: str
    username: str = field(default="", repr=False)
    password: str = field(default="", repr=False)

    @property
    def public_url(self) -> str:
        """The URL without any user:password@ part."""
        parts = urlsplit(self.url)
        return urlunsplit(
            (
                parts.scheme,
                parts.hostname + (f":{parts.port}" if parts.port else "") if parts.hostname else "",
                parts.path,
                "",
                "",
            )
        )

    def public(self) -> dict:
        return {"name": self.name, "url": self.public_url}


def pacs_endpoints() -> list[PacsEndpoint]:
    endpoints = []
    for entry in getattr(settings, "PACS_ENDPOINTS", []) or []:
        endpoints.append(
            PacsEndpoint(
                name=str(entry["name"]),
                url=str(entry["url"]).rstrip("/"),
                username=str(entry.get("username", "") or ""),
                password=str(entry.get("password", "") or ""),
            )
        )
    return endpoints


def pacs_endpoint(name: str) -> PacsEndpoint:
    for endpoint in pacs_endpoints():
        if endpoint.name == name:
            return endpoint
    raise PacsRequestInvalid(f"no PACS named {name!r} is configured (PACS_ENDPOINTS)")


class _RawWildcardSession(requests.Session):
    """Sends QIDO wildcards as `*`, not `%2A`: `*` is a legal query character (RFC 3986), and some PACS
    (Orthanc 1.10 with DICOMweb 1.7) match a percent-encoded `*` literally and find nothing."""

    def prepare_request(self, request):
        prepared = super().prepare_request(request)
        prepared.url = (prepared.url or "").replace("%2A", "*")
        return prepared


def _client(endpoint: PacsEndpoint) -> DICOMwebClient:
    session = _RawWildcardSession()
    if endpoint.username:
        session.auth = (endpoint.username, endpoint.password)
    return DICOMwebClient(url=endpoint.url, session=session)


def _failure(endpoint: PacsEndpoint, what: str, exc: Exception) -> PacsError:
    status = getattr(getattr(exc, "response", None), "status_code", None)
    reason = f"HTTP {status}" if status else type(exc).__name__
    return PacsError(f"PACS {endpoint.name}: {what} failed ({reason})")


def _dicom_date(value: dt.date | None, default: str) -> str:
    return value.strftime("%Y%m%d") if value else default


def _value(study: dict, keyword: str):
    values = study.get(f"{pydicom.datadict.tag_for_keyword(keyword):08X}", {}).get("Value") or []
    return values if keyword == "ModalitiesInStudy" else (values[0] if values else None)


def studies_search(
    endpoint: PacsEndpoint,
    *,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    modality: str = "",
    description: str = "",
) -> list[dict]:
    """QIDO-RS: studies by date range, modality in study and description (a part of it, any case)."""
    filters: dict[str, str] = {}
    if date_from or date_to:
        filters["StudyDate"] = f"{_dicom_date(date_from, '')}-{_dicom_date(date_to, '')}"
    if modality:
        filters["ModalitiesInStudy"] = modality.upper()
    if description.split():
        # Words become wildcards between them: a space is matched literally by some PACS, or not at all.
        filters["StudyDescription"] = "*" + "*".join(description.split()) + "*"
    try:
        found = _client(endpoint).search_for_studies(
            search_filters=filters, fields=SEARCH_FIELDS, limit=SEARCH_LIMIT, fuzzymatching=False
        )
    except (requests.RequestException, ValueError) as exc:
        raise _failure(endpoint, "the study search", exc) from exc
    return [_study_row(study) for study in found]


def _study_row(study: dict) -> dict:
    return {
        "token": seal({"study_uid": _value(study, "StudyInstanceUID")}),
        "date": _value(study, "StudyDate") or "",
        "time": str(_value(study, "StudyTime") or "")[:6],
        "description": _value(study, "StudyDescription") or "",
        "modalities": _value(study, "ModalitiesInStudy") or [],
        "series": _value(study, "NumberOfStudyRelatedSeries"),
        "instances": _value(study, "NumberOfStudyRelatedInstances"),
    }


def study_uid_of(token: str) -> str:
    try:
        return str(unseal(token)["study_uid"])
    except (ValueError, KeyError, TypeError) as exc:
        raise PacsRequestInvalid("a picked study is not a token from a search of this platform") from exc


# How often a retrieval reports how far it got (instances).
PROGRESS_EVERY = 50


def study_retrieve(endpoint: PacsEndpoint, *, token: str, folder: Path, on_progress=None) -> int:
    """WADO-RS: every instance of the study, written as files under `folder`; returns their number.
    `on_progress(n)` hears every PROGRESS_EVERY instances."""
    folder.mkdir(parents=True, exist_ok=True)
    study_uid = study_uid_of(token)
    number = 0
    try:
        # One instance at a time: a 600-slice study never sits in memory whole.
        for number, dataset in enumerate(_client(endpoint).iter_study(study_uid), start=1):
            dataset.save_as(folder / f"{number:06d}", enforce_file_format=True)
            if on_progress and number % PROGRESS_EVERY == 0:
                on_progress(number)
    except (requests.RequestException, ValueError) as exc:
        raise _failure(endpoint, "retrieving a study", exc) from exc
    if number == 0:
        raise PacsError(f"PACS {endpoint.name}: the study holds no instances (or is gone)")
    return number


def instances_store(endpoint: PacsEndpoint, datasets: list[pydicom.Dataset]) -> None:
    """STOW-RS: sends the instances to the PACS."""
    try:
        _client(endpoint).store_instances(datasets)
    except (requests.RequestException, ValueError) as exc:
        raise _failure(endpoint, "sending (STOW-RS)", exc) from exc
