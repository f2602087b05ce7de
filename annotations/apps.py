from django.apps import AppConfig


class AnnotationsConfig(AppConfig):
    name = "annotations"
    verbose_name = "Reading: assignments, VOI revisions, review and agreement"

    def ready(self) -> None:
        from . import jobs  # noqa: F401  (registers the agreement job handler)
