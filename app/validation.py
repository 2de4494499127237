"""Bounds on what a request may carry: ids, numbers and dates in URLs, text in forms.

Databases have limits Python does not (SQLite integers are 64-bit, PostgreSQL's `integer`
32-bit, and PostgreSQL refuses NUL in text), so input is checked against them before it gets
near a query: out-of-range ids are "not found", out-of-range numbers and dates are ignored
with a message, and text with control characters is refused with a field message.
"""

from __future__ import annotations

from datetime import date

from flask_wtf import FlaskForm
from werkzeug.routing import IntegerConverter
from wtforms import HiddenField, StringField, TextAreaField

MAX_ID = 2**31 - 1  # PostgreSQL `integer`; PVE's VMIDs end at 999,999,999
EARLIEST_DATE = date(1970, 1, 1)
LATEST_DATE = date(9998, 12, 31)
# C0 and C1 control characters (U+0085, NEXT LINE, among them), and the Unicode line and
# paragraph separators: each breaks a line somewhere (a log, a config file, a shell).
CONTROL_CHARACTERS = frozenset(chr(c) for c in [*range(32), *range(127, 160), 0x2028, 0x2029])
TEXTAREA_ALLOWED = frozenset("\t\n\r")


class BoundedIntConverter(IntegerConverter):
    """`<int:...>` for every route: 0 to MAX_ID, so a larger id is a 404, never a 500."""

    def __init__(self, map, *args, **kwargs):  # noqa: A002 - werkzeug's name
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def int_arg(args, name: str, default: int | None, low: int, high: int, problems: list[str]):
    """An integer query parameter between low and high; default (with a message) otherwise."""
    value = args.get(name, "").strip()
    if not value:
        return default
    if value.lstrip("-").isdigit() and low <= int(value) <= high:
        return int(value)
    problems.append(f"Ignored {name} {value[:20]!r}: use a whole number from {low} to {high}.")
    return default


def date_arg(args, name: str, problems: list[str]) -> date | None:
    """A YYYY-MM-DD query parameter between 1970 and 9998; None (with a message) otherwise."""
    value = args.get(name, "").strip()
    if not value:
        return None
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        problems.append(f"Ignored the {name} date {value[:20]!r}: use YYYY-MM-DD.")
        return None
    if not EARLIEST_DATE <= parsed <= LATEST_DATE:
        problems.append(f"Ignored the {name} date {value[:20]!r}: use a date from 1970 to 9998.")
        return None
    return parsed


def has_control_characters(text: str, allowed: frozenset[str] = frozenset()) -> bool:
    """True when text holds NUL or another control character not in allowed."""
    return any(c in CONTROL_CHARACTERS and c not in allowed for c in text)


class PortalForm(FlaskForm):
    """Every form of the portal: text fields with control characters (NUL included) get a
    field message, whatever the form's own validators say; a hidden field that does not
    validate (the page can show no message beside it) gets a message for the whole form."""

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if any(isinstance(f, HiddenField) and f.errors for f in self):
            self.form_errors.append("This form has expired or was changed; please try again.")
        for field in self:
            if not isinstance(field, StringField) or not field.data:
                continue
            allowed = TEXTAREA_ALLOWED if isinstance(field, TextAreaField) else frozenset()
            if has_control_characters(str(field.data), allowed):
                field.errors = [*field.errors, "Remove the control characters (such as NUL)."]
                valid = False
        return valid
