"""Remembers the request's user for the audit trail when a service is not handed an actor."""

import contextvars
import time
from collections.abc import Callable
from typing import Any

_current_user: contextvars.ContextVar[Any] = contextvars.ContextVar("osteoscreen_user", default=None)


def current_user() -> Any:
    return _current_user.get()


class CurrentUserMiddleware:
    def __init__(self, get_response: Callable) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        token = _current_user.set(getattr(request, "user", None))
        try:
            return self.get_response(request)
        finally:
            _current_user.reset(token)


class SessionIdleTimeoutMiddleware:
    """A session ends after SESSION_COOKIE_AGE seconds without a request (default 8 h), not after a fixed
    age: each request moves the expiry on. The session row is written at most once a minute, so the
    viewer's many requests do not each write it."""

    TOUCH_EVERY_SECONDS = 60
    KEY = "_touched_at"

    def __init__(self, get_response: Callable) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        session = getattr(request, "session", None)
        if session is not None and session.session_key:
            now = int(time.time())
            if now - int(session.get(self.KEY, 0)) >= self.TOUCH_EVERY_SECONDS:
                session[self.KEY] = now  # a modified session is saved with a fresh expiry
        return self.get_response(request)
