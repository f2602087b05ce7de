import os
import sys
from pathlib import Path

sys.path.append(str(Path(__file__).resolve().parents[1]))
from osteoscreen.paths import add_platform_to_path  # noqa: E402

add_platform_to_path()
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "osteoscreen.settings.local")

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()

# Import the URLconf, and with it every view and what the views import (inference pulls in torch and
# scikit-learn), while the web worker boots: left to the first request, that request took about 1 s on
# 2 cores, and the first reader to open a case after a restart waited for it before the first slice.
from django.urls import get_resolver  # noqa: E402

get_resolver().url_patterns  # noqa: B018
