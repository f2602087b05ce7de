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
    "default": {
        "BACKEND": env("DEFAULT_FILE_STORAGE", default="django.core.files.storage.FileSystemStorage")
    },
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# HTTPS only. Behind a proxy that terminates TLS and redirects itself, SECURE_SSL_REDIRECT=0 (the proxy must
# then send X-Forwarded-Proto, above); HSTS stays on: browsers reach the site only over HTTPS for a year.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
# The load balancer's health probe may come over plain HTTP inside the cluster.
SECURE_REDIRECT_EXEMPT = [r"^api/health/$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)

# The viewer's bench build (benchmark instrumentation) never ships, whatever the environment says.
VIEWER_BENCH_BUILD = False
STATICFILES_DIRS = [ROOT_DIR / "frontend" / "dist"]
