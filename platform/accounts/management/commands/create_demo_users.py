from django.core.management.base import BaseCommand

from accounts.roles import Role
from accounts.services import user_create_with_role

# Demo accounts only: `make demo` prints them. Never use these on a server with real data.
DEMO_USERS = [
    ("reader1", "reader1-demo", Role.READER, False),
    ("reader2", "reader2-demo", Role.READER, True),
    ("coordinator", "coordinator-demo", Role.COORDINATOR, False),
    ("pi", "pi-demo", Role.PI, False),
    ("admin", "admin-demo", Role.ADMIN, False),
]


class Command(BaseCommand):
    help = "Create one demo user per role (reader2 is the senior reader, as the paper's 15-year reader supervised the junior) and print their passwords."

    def handle(self, *args, **options):
        self.stdout.write("Demo users (username / password / role):")
        for username, password, role, senior in DEMO_USERS:
            user_create_with_role(username=username, password=password, role=role, senior=senior)
            self.stdout.write(
                f"  {username:12s} {password:18s} {role.value}{' (senior reader)' if senior else ''}"
            )
