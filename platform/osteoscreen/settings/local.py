"""One machine, no services to install: SQLite and the bundled broker unless the environment says otherwise."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env("SECRET_KEY", default="local-development-only-not-secret")
PSEUDONYM_KEY = env("PSEUDONYM_KEY", default="local-pseudonym-key")
WHITENOISE_USE_FINDERS = True
