"""What a locked-out sign-in gets (django-axes calls this; settings.AXES_LOCKOUT_CALLABLE).

After AXES_FAILURE_LIMIT failed sign-ins for one account, or from one client address, sign-in is refused
for AXES_COOLOFF_TIME on both paths, the login page and the token endpoint: a page in the site's style, or
JSON under /api/, each saying when to try again, with a Retry-After header.
"""

from typing import Any

from axes.helpers import get_cool_off
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone

LOCKED_STATUS = 429


def lockout_message(request: HttpRequest) -> tuple[str, int]:
    cool_off = get_cool_off(request)
    seconds = int(cool_off.total_seconds()) if cool_off else 0
    minutes = max(1, round(seconds / 60))
    until = timezone.localtime(timezone.now() + cool_off).strftime("%H:%M %Z") if cool_off else ""
    message = (
        f"Too many failed sign-ins for this account or from this computer. Try again in {minutes} "
        f"minute{'s' if minutes != 1 else ''} (after {until}); if you have forgotten your password, "
        f"ask an admin to set a new one."
    )
    return message, seconds


def lockout_response(
    request: HttpRequest, original_response: Any = None, credentials: Any = None
) -> HttpResponse:
    message, seconds = lockout_message(request)
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse({"detail": message}, status=LOCKED_STATUS)
    else:
        response = render(
            request, "429.html", {"status": LOCKED_STATUS, "message": message}, status=LOCKED_STATUS
        )
    response["Retry-After"] = str(seconds)
    return response
