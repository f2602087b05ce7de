"""The four roles of the study, held as Django groups so that admins manage them in the admin site.

- reader: radiologists; see and edit only what is assigned to them.
- coordinator: imports cases, manages cohorts and splits, assigns reading; sees status, never masks.
- pi: reads everything, starts training, promotes model versions.
- admin: manages users.
"""

from enum import StrEnum

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Group


class Role(StrEnum):
    READER = "reader"
    COORDINATOR = "coordinator"
    PI = "pi"
    ADMIN = "admin"


def user_roles(user: AbstractBaseUser | AnonymousUser) -> set[Role]:
    if not user.is_authenticated:
        return set()
    cached = getattr(user, "_osteoscreen_roles", None)
    if cached is None:
        names = set(user.groups.values_list("name", flat=True))  # type: ignore[attr-defined]
        cached = {role for role in Role if role.value in names}
        if user.is_superuser:  # type: ignore[attr-defined]
            cached.add(Role.ADMIN)
        # A per-instance cache for this request; the user model does not declare the attribute.
        user._osteoscreen_roles = cached  # type: ignore[attr-defined]
    return cached


def has_role(user: AbstractBaseUser | AnonymousUser, *roles: Role) -> bool:
    return bool(user_roles(user) & set(roles))


def grant_role(user: AbstractBaseUser, role: Role) -> None:
    group, _ = Group.objects.get_or_create(name=role.value)
    user.groups.add(group)  # type: ignore[attr-defined]
    if hasattr(user, "_osteoscreen_roles"):
        del user._osteoscreen_roles
