from django.apps import AppConfig


class AnnotationsConfig(AppConfig):
    name = "annotations"
    verbose_name = "Reading: assignments, VOI revisions, review and agreement"

    def ready(self) -> None:
        # Imported here, not at the top: models may be imported only once the app registry is ready.
        from cases.selectors import assigned_case_ids_register

        from . import jobs  # noqa: F401  (registers the agreement job handler)
        from .selectors import case_ids_assigned_to

        assigned_case_ids_register(case_ids_assigned_to)
