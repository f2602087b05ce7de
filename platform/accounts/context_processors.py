from typing import Any

from .permissions import sees_reference_standard
from .roles import Role, user_roles


def roles(request: Any) -> dict[str, Any]:
    held = user_roles(request.user) if hasattr(request, "user") else set()
    user = getattr(request, "user", None)
    return {"user_roles": sorted(r.value for r in held), "is_staff_role": bool(held - {Role.READER}),
            "sees_reference_standard": sees_reference_standard(user),
            **{f"is_{r.value}": r in held for r in Role}}
