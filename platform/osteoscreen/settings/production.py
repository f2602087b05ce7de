"""Production: secrets have no defaults, so a missing one stops start-up loudly."""

from .base import *  # noqa: F403
from .base import ROOT_DIR, env

DEBUG = False
SECRET_KEY = env("SECRET_KEY")
PSEUDONYM_KEY = env("PSEUDONYM_KEY")
DATABASES = {"default": env.db("DATABASE_URL")}
CELERY_BROKER_URL = env("CELERY_BROKER_URL")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
STORAGES = {
    "default": {"BACKEND": env("DEFAULT_FILE_STORAGE", default="django.core.files.storage.FileSystemStorage")},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# The viewer's bench build (benchmark instrumentation) never ships, whatever the environment says.
VIEWER_BENCH_BUILD = False
STATICFILES_DIRS = [ROOT_DIR / "frontend" / "dist"]
