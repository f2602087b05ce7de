from django.contrib.auth import get_user_model
from django.db import transaction

from .roles import Role, grant_role


@transaction.atomic
def user_create_with_role(*, username: str, password: str, role: Role, senior: bool = False):
    """Creates (or, run again, resets) a user holding `role`. Used by the demo and by tests."""
    User = get_user_model()
    user, _ = User.objects.get_or_create(username=username)
    user.set_password(password)
    user.is_staff = role == Role.ADMIN
    user.is_superuser = role == Role.ADMIN
    user.save()
    grant_role(user, role)
    if senior:
        from django.contrib.auth.models import Group

        group, _ = Group.objects.get_or_create(name="senior")
        user.groups.add(group)
    return user
