"""The site's formatting rules for what a person reads: counts with their noun in the right number,
BMD with three decimals and its unit, dict-shaped data as labelled values, never a raw dict."""

from collections.abc import Mapping
from typing import Any

from django import template
from django.utils.html import format_html, format_html_join

register = template.Library()

BMD_UNITS = {"mg/cm3": "mg/cm³", "g/cm2": "g/cm²"}
MISSING = "–"


@register.filter
def count(value: Any, nouns: str) -> str:
    """`{{ n|count:"edit,edits" }}` -> "1 edit", "2 edits"; a missing number reads "unknown"."""
    singular, _, plural = nouns.partition(",")
    if value is None or value == "":
        return f"unknown {plural or singular + 's'}"
    return f"{value} {singular if abs(float(value)) == 1 else (plural or singular + 's')}"


@register.filter
def bmd(value: Any, unit: str = "mg/cm3") -> str:
    if value is None or value == "":
        return MISSING
    return f"{float(value):.3f} {BMD_UNITS.get(unit, unit)}"


@register.filter
def with_unit(value: Any, unit: str) -> str:
    """A measurement and its unit, or a dash alone (never "- mm")."""
    if value is None or value == "":
        return MISSING
    return f"{value:g} {unit}" if isinstance(value, float) else f"{value} {unit}"


@register.filter
def days_between(days: Any) -> str:
    """The gap between QCT and CT in words: "3 days after the CT", "1 day before", "the same day"."""
    if days is None or days == "":
        return "an unknown number of days from the CT (no exam date)"
    days = int(days)
    if days == 0:
        return "the same day as the CT"
    word = "day" if abs(days) == 1 else "days"
    return f"{abs(days)} {word} {'after' if days > 0 else 'before'} the CT"


SPLIT_LABELS = {
    "seed": "seed",
    "test_cutoff": "test from",
    "test_fraction": "test fraction",
    "validation_fraction": "validation fraction",
    "stratify": "stratified",
}


@register.filter
def split_parameters(params: Mapping[str, Any]) -> str:
    """A split's parameters as a sentence of labelled values."""
    shown = dict(params or {})
    if shown.get("test_cutoff"):
        shown.pop("test_fraction", None)
    else:
        shown.pop("test_cutoff", None)
    parts = [
        f"{SPLIT_LABELS.get(k, k.replace('_', ' '))} {_plain(v)}" for k, v in shown.items() if k != "seed"
    ]
    return " · ".join(parts)


def _plain(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if value is None:
        return MISSING
    return str(value)


@register.filter
def labelled(data: Any) -> str:
    """Dict-shaped data (a job's result) as a definition list; nested values flatten to "a · b"."""
    if not isinstance(data, Mapping):
        return _flat(data)
    rows = ((k.replace("_", " ").capitalize(), _flat(v)) for k, v in data.items())
    return format_html('<dl class="meta">{}</dl>', format_html_join("", "<dt>{}</dt><dd>{}</dd>", rows))


def _flat(value: Any) -> str:
    if isinstance(value, Mapping):
        return " · ".join(f"{k.replace('_', ' ')} {_flat(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(_flat(v) for v in value)
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".") if abs(value) < 1000 else f"{value:,.0f}"
    return _plain(value)
