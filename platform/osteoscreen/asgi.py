import os
import sys
from pathlib import Path

sys.path.append(str(Path(__file__).resolve().parents[1]))
from osteoscreen.paths import add_platform_to_path  # noqa: E402

add_platform_to_path()
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "osteoscreen.settings.local")

from django.core.asgi import get_asgi_application  # noqa: E402

application = get_asgi_application()
