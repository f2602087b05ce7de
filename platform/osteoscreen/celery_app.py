"""The Celery application: queues `cpu` (import, radiomics, statistics) and `gpu` (training, segmentation)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "osteoscreen.settings.local")

app = Celery("osteoscreen")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
