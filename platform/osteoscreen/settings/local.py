"""One machine, no services to install: SQLite and the bundled broker unless the environment says otherwise."""

from .base import *  # noqa: F403
from .base import VAR_DIR, env

# DEBUG stays off unless a developer asks for it (DJANGO_DEBUG=1): the web server, the workers and every
# management command fall back to these settings, and a debug page hands out paths, settings and data.
DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env("SECRET_KEY", default="local-development-only-not-secret")
PSEUDONYM_KEY = env("PSEUDONYM_KEY", default="local-pseudonym-key")
WHITENOISE_USE_FINDERS = True

# Without CELERY_BROKER_URL, every process of `make demo` (load_demo, the worker, the web server) uses the
# embedded Redis that run_platform starts on this socket.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=f"redis+socket://{VAR_DIR / 'broker.sock'}")
