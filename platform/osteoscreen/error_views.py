"""The site's own error pages (400, 403, 404, 500; 429 for a locked sign-in is in accounts.lockout).

Pages render the site's template with its navigation and one sentence on what to do; anything under
/api/ answers JSON, as DRF's own errors do. Nothing here ever shows a traceback, a path or a setting:
tracebacks go to the log (Django's request logger) and, for jobs, to the admin's job detail.
"""

import logging

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"

# What each status says to a person (page) and to a program (JSON `detail`).
MESSAGES = {
    400: "The request could not be understood. Check the address or the form, then try again.",
    403: "Your role does not allow this. If you need it, ask the study coordinator or an admin.",
    404: "There is nothing here, or it is not yours to see. Check the address, or start again from the home page.",
    500: "Something went wrong on our side and has been logged. Try again in a minute; if it happens "
    "again, tell an admin what you were doing and when.",
}


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def error_response(request: HttpRequest, status: int, reason: str = "") -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"detail": " ".join(filter(None, [reason, MESSAGES[status]]))}, status=status)
    context = {"status": status, "message": MESSAGES[status], "reason": reason}
    try:
        body = loader.render_to_string(f"{status}.html", context, request=request)
    except Exception:
        # The request context (the signed-in user, the role flags) needs the database; when that is what
        # failed, the page still renders, only without the navigation.
        logger.exception("the %s page could not render with the request; rendering it without", status)
        body = loader.render_to_string(f"{status}.html", context)
    return HttpResponse(body, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_response(request, 400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    # Our role checks raise PermissionDenied with a sentence for the person ("This page needs one of
    # these roles: ..."); that sentence is shown, nothing else from the exception.
    return error_response(request, 403, reason=str(exception or "")[:200])


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return error_response(
        request,
        403,
        reason="The form had expired or came from another site; reload the page and send it again.",
    )


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_response(request, 404)


def server_error(request: HttpRequest) -> HttpResponse:
    return error_response(request, 500)
