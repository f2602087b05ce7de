"""GET /api/health/: the state of the database, the broker and the number of live workers."""

from celery.exceptions import CeleryError
from django.db import connection
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from .celery_app import app

# A ping waits this long for workers to answer; a live worker answers in milliseconds.
WORKER_PING_TIMEOUT_S = 1.0
BROKER_TIMEOUT_S = 1.0


def database_state() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return {"ok": True, "vendor": connection.vendor}
    except Exception as exc:  # noqa: BLE001 - any failure means the database is not usable
        return {"ok": False, "vendor": connection.vendor, "error": str(exc)[:200]}


def broker_state() -> dict:
    try:
        # One quick attempt: a health check must answer fast whether or not the broker does.
        with app.connection_for_write(connect_timeout=BROKER_TIMEOUT_S) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=BROKER_TIMEOUT_S)
            transport = conn.transport_cls
        return {"ok": True, "transport": str(transport)}
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "error": str(exc)[:200]}


def worker_state() -> dict:
    try:
        replies = app.control.ping(timeout=WORKER_PING_TIMEOUT_S) or []
    except (CeleryError, OSError, Exception) as exc:  # noqa: BLE001
        return {"ok": False, "count": 0, "error": str(exc)[:200]}
    names = sorted(name for reply in replies for name in reply)
    return {"ok": bool(names), "count": len(names), "names": names}


def _state(name: str, **fields) -> serializers.Serializer:
    return inline_serializer(name, {"ok": serializers.BooleanField(), **fields})


HealthOutputSerializer = inline_serializer(
    "HealthOutput",
    {
        "ok": serializers.BooleanField(help_text="database, broker and at least one worker are up"),
        "database": _state(
            "DatabaseState", vendor=serializers.CharField(), error=serializers.CharField(required=False)
        ),
        "broker": _state(
            "BrokerState",
            transport=serializers.CharField(required=False),
            error=serializers.CharField(required=False),
        ),
        "workers": _state(
            "WorkerState",
            count=serializers.IntegerField(),
            names=serializers.ListField(child=serializers.CharField(), required=False),
            error=serializers.CharField(required=False),
        ),
    },
)


class HealthApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(responses={200: HealthOutputSerializer, 503: HealthOutputSerializer})
    def get(self, request):
        database = database_state()
        broker = broker_state()
        workers = worker_state() if broker["ok"] else {"ok": False, "count": 0}
        ok = database["ok"] and broker["ok"] and workers["ok"]
        return Response(
            {"ok": ok, "database": database, "broker": broker, "workers": workers},
            status=200 if database["ok"] else 503,
        )
