from typing import Any

from .permissions import sees_reference_standard
from .roles import Role, user_roles

# The group of senior readers (who review); the annotations app grants it.
SENIOR_GROUP = "senior"


def roles(request: Any) -> dict[str, Any]:
    held = user_roles(request.user) if hasattr(request, "user") else set()
    # The menu shows only what the role may open: the review page is for senior readers alone.
    senior = Role.READER in held and request.user.groups.filter(name=SENIOR_GROUP).exists()
    return {
        "user_roles": sorted(r.value for r in held),
        "is_staff_role": bool(held - {Role.READER}),
        "is_senior_reader": senior,
        "sees_reference_standard": sees_reference_standard(request.user),
        **{f"is_{r.value}": r in held for r in Role},
    }
