from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = "Patients, CT cases, QCT and cohorts"

    def ready(self) -> None:
        from . import jobs  # noqa: F401  (registers the import job handlers)
