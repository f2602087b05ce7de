from django.apps import AppConfig


class InferenceConfig(AppConfig):
    name = "inference"
    verbose_name = "Models: training, versions, predictions, evaluation"

    def ready(self) -> None:
        # Imported here, not at the top: models may be imported only once the app registry is ready.
        from annotations.labelstore import START, label_source_register

        from . import jobs  # noqa: F401  (registers the training and prediction job handlers)
        from .selectors import start_labelmap_path

        label_source_register(START, start_labelmap_path)
