"""Role checks for the API (DRF permission classes) and for pages (a view decorator)."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission

from .roles import Role, has_role


def HasRole(*roles: Role) -> type[BasePermission]:  # noqa: N802 - reads like a class in permission_classes
    """A DRF permission class that admits authenticated users holding any of `roles`."""

    class _HasRole(BasePermission):
        message = "This needs one of these roles: " + ", ".join(r.value for r in roles) + "."

        def has_permission(self, request: Any, view: Any) -> bool:
            return bool(request.user and request.user.is_authenticated and has_role(request.user, *roles))

    _HasRole.__name__ = "HasRole_" + "_".join(r.value for r in roles)
    return _HasRole


def role_required(*roles: Role) -> Callable:
    """Page decorator: anonymous users go to the login page, users without the role get 403."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request: Any, *args: Any, **kwargs: Any) -> Any:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not has_role(request.user, *roles):
                raise PermissionDenied("This page needs one of these roles: " + ", ".join(roles))
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


STAFF_ROLES = (Role.COORDINATOR, Role.PI, Role.ADMIN)


def sees_reference_standard(user: Any) -> bool:
    """Whether the user may see the reference standard (QCT T-scores and BMD, bone status, exclusions,
    split subsets, model predictions). Readers may not while the study is blinded: a reader who knows
    the outcome reads differently. STUDY_UNBLINDED=True lifts this once the reading is over."""
    if not getattr(user, "is_authenticated", False):
        return False
    return bool(settings.STUDY_UNBLINDED) or has_role(user, *STAFF_ROLES)
