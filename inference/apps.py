from django.apps import AppConfig


class InferenceConfig(AppConfig):
    name = "inference"
    verbose_name = "Models: training, versions, predictions, evaluation"

    def ready(self) -> None:
        from . import jobs  # noqa: F401  (registers the training and prediction job handlers)
