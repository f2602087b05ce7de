from django.apps import AppConfig


class OsteoscreenConfig(AppConfig):
    name = "osteoscreen"
    verbose_name = "OsteoScreen (project: settings, URLs, demo orchestration)"

    def ready(self) -> None:
        # Imported for its side effect: it registers the demo pipeline's job handler. The apps' models are
        # all loaded before any ready() runs, so importing inference's services here is safe.
        from .demo import jobs  # noqa: F401
