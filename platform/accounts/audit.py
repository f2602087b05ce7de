"""The audit trail. Services call `audit_log` for every create, change and delete of clinical data.

Explicit calls from services (rather than signals) keep the actor known and the trail next to the
write it describes, as style.md asks: no business logic in signals.
"""

import datetime as dt
import decimal
from typing import Any

from django.db import models

from .middleware import current_user
from .models import AuditEvent


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, models.fields.files.FieldFile):
        return value.name or ""
    return value


def model_snapshot(obj: models.Model) -> dict[str, Any]:
    return {f.attname: _plain(getattr(obj, f.attname)) for f in obj._meta.concrete_fields}


def snapshot_changes(old: dict[str, Any] | None, new: dict[str, Any] | None) -> dict[str, list[Any]]:
    old, new = old or {}, new or {}
    keys = sorted(set(old) | set(new))
    return {k: [old.get(k), new.get(k)] for k in keys if old.get(k) != new.get(k)}


def audit_log(
    *, actor: Any, action: str, obj: models.Model, changes: dict[str, list[Any]] | None = None
) -> AuditEvent:
    if actor is None:
        actor = current_user()
    if changes is None:
        snapshot = model_snapshot(obj)
        changes = snapshot_changes(None, snapshot) if action == "create" else snapshot_changes(snapshot, None)
    return AuditEvent.objects.create(
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        action=action,
        model=obj._meta.label_lower,
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        changes={k: [_plain(a), _plain(b)] for k, (a, b) in changes.items()},
    )
