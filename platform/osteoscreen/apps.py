from django.apps import AppConfig


class OsteoscreenConfig(AppConfig):
    name = "osteoscreen"
    verbose_name = "OsteoScreen (project: settings, URLs, demo orchestration)"

    def ready(self) -> None:
        # Imported here, not at the top: apps.py loads before the app registry is ready, and these import
        # models. `demo.jobs` is imported for its side effect: it registers the demo pipeline's handler.
        from accounts.roles import Role, has_role
        from jobs.access import job_access_register

        from .demo import jobs  # noqa: F401

        # Coordinators, PIs and admins run the study and follow every job; only an admin cancels someone
        # else's.
        job_access_register(
            sees_every_job=lambda user: has_role(user, Role.COORDINATOR, Role.PI, Role.ADMIN),
            cancels_any_job=lambda user: has_role(user, Role.ADMIN),
        )
