"""The one place where ids and whole numbers from a URL, a query string or a form become ints.

Python's `int()` and `str.isdigit()` accept far more than a person types: `'²'.isdigit()` is true but
`int('²')` fails, `int('١٢')` is 12, `int(' 7 ')` is 7, and a 25-digit id overflows the database's
64-bit integer. Every such value is parsed here, once, strictly: ASCII digits only (a leading minus sign
where negatives are allowed), and range checked against the column it will be compared with, so a bad
value is a 400 (or a 404 for a page) and never a 500.
"""

from __future__ import annotations

from django import forms
from django.http import Http404
from django.urls.converters import IntConverter
from rest_framework import serializers

from .errors import DomainError

# Primary keys are BigAutoField: a signed 64-bit integer in PostgreSQL and SQLite alike.
ID_MAX = 2**63 - 1
# Other whole numbers (seeds, counts, epochs) are stored in a plain `integer` column: signed 32-bit.
INT_MAX = 2**31 - 1
INT_MIN = -(2**31)
# No id or count we store has more digits than this; longer text is refused before int() sees it.
MAX_DIGITS = 19


class InvalidNumber(DomainError, ValueError):
    """A value that should have been a whole number in range, with a message naming the field."""

    status_code = 400


def parse_int(value: object, *, name: str, minimum: int = INT_MIN, maximum: int = INT_MAX) -> int:
    """A whole number written in ASCII digits (optionally a leading '-'), within [minimum, maximum]."""
    if isinstance(value, bool):
        raise InvalidNumber(f"{name} must be a whole number")
    if isinstance(value, int):
        number = value
    else:
        text = value if isinstance(value, str) else ""
        digits = text[1:] if text.startswith("-") else text
        if not digits or len(digits) > MAX_DIGITS or not (digits.isascii() and digits.isdigit()):
            raise InvalidNumber(f"{name} must be a whole number written in digits 0-9")
        number = int(text)
    if not minimum <= number <= maximum:
        raise InvalidNumber(f"{name} must be between {minimum} and {maximum}")
    return number


def parse_id(value: object, *, name: str) -> int:
    """A database id: a positive whole number that fits the 64-bit primary key."""
    return parse_int(value, name=name, minimum=1, maximum=ID_MAX)


def parse_optional_id(value: str | None, *, name: str) -> int | None:
    """None for an absent or empty value, else a strict id."""
    if value is None or value == "":
        return None
    return parse_id(value, name=name)


class IdConverter(IntConverter):
    """`<id:pk>` in URL patterns: ASCII digits that fit a 64-bit primary key; anything else does not match
    (404), so a view never queries with an id the database cannot hold."""

    regex = f"[0-9]{{1,{MAX_DIGITS}}}"

    def to_python(self, value: str) -> int:
        return parse_id(value, name="id")  # InvalidNumber is a ValueError: Django answers 404


class IdField(serializers.IntegerField):
    """An id in an API input (query string, form or JSON): strict digits, 1 to 2**63-1, else a 400."""

    default_error_messages = {"invalid": "A valid id (a whole number in digits 0-9) is required."}

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", ID_MAX)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        try:
            minimum = INT_MIN if self.min_value is None else int(self.min_value)
            maximum = ID_MAX if self.max_value is None else int(self.max_value)
            return parse_int(data, name=self.field_name or "id", minimum=minimum, maximum=maximum)
        except InvalidNumber as error:
            raise serializers.ValidationError(error.message, code="invalid") from error


class WholeNumberField(IdField):
    """A whole number in an API input that fits a 32-bit integer column unless bounds are given."""

    default_error_messages = {"invalid": "A whole number in digits 0-9 is required."}

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", INT_MIN)
        kwargs.setdefault("max_value", INT_MAX)
        super().__init__(**kwargs)


class IdRelatedField(serializers.PrimaryKeyRelatedField):
    """A related object named by its id: the id is parsed strictly before the database sees it."""

    def to_internal_value(self, data):
        try:
            pk = parse_id(data, name=self.field_name or "id")
        except InvalidNumber:
            self.fail("incorrect_type", data_type=type(data).__name__)
        return super().to_internal_value(pk)


class IdFormField(forms.Field):
    """A Django form field for an id (django-filter filters, e.g. the case API's `cohort`): strict, else invalid."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            return parse_id(value, name=str(self.label or "id"))
        except InvalidNumber as error:
            raise forms.ValidationError(error.message, code="invalid") from error


def query_id_or_404(params, key: str) -> int | None:
    """An optional id from a page's query string or form: None when absent, a 404 when it is no id."""
    try:
        return parse_optional_id(params.get(key), name=key)
    except InvalidNumber as error:
        raise Http404(error.message) from error


def id_or_none(value: str | None) -> int | None:
    """A strict id, or None for an absent, empty or malformed value: for a form's optional choice, whose
    bad value simply matches nothing."""
    try:
        return parse_optional_id(value, name="id")
    except InvalidNumber:
        return None


def ids_of(values: list[str]) -> list[int]:
    """The strict ids among a form's repeated values (a selection of checkboxes); the rest match nothing."""
    return [i for i in map(id_or_none, values) if i is not None]
