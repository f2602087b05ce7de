"""The one DRF exception handler of the API (REST_FRAMEWORK["EXCEPTION_HANDLER"]): a DomainError that a
service raises answers with its own HTTP status and its message as `detail`; everything else is DRF's."""

from rest_framework.response import Response
from rest_framework.views import exception_handler

from .errors import DomainError


def domain_exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, DomainError):
        return Response({"detail": exc.message}, status=exc.status_code)
    return exception_handler(exc, context)
