"""Remembers the request's user for the audit trail when a service is not handed an actor."""

import contextvars
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
