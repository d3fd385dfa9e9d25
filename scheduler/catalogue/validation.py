"""Pydantic's validation errors in plain words: what was expected, the value given and,
where the value reads as exactly one value of the expected kind, what to write instead.

Shared by the catalogue and the configuration, so both speak to the operator alike.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

_FRIENDLY = {
    "missing": "required key is missing",
    "extra_forbidden": "unknown key (check the spelling against the documentation)",
    "int_type": "expected a whole number",
    "string_type": "expected text",
    "bool_type": "expected true or false",
    "date_type": "expected a date written YYYY-MM-DD",
    "list_type": "expected a list",
    "model_type": "expected a mapping of keys",
    "model_attributes_type": "expected a mapping of keys",
    "dict_type": "expected a mapping of keys",
    "string_too_short": "expected a longer text",
    "too_short": "expected at least one item",
}
_PATTERNS = {
    "^[a-z0-9]+(-[a-z0-9]+)*$": "expected an id of lower-case letters a-z, digits and hyphens "
                                 "(e.g. 'jyvaskyla'), as defined in the catalogue",
    "^\\d{5}$": "expected a postcode of five digits in quotes, e.g. \"40100\"",
    "^\\d{7}-\\d$": "expected a business id (y-tunnus) like \"0174666-4\"",
    "^\\d{4}-\\d{4}$": "expected a term id like \"2025-2029\"",
}
# Yes/no words in quotes (or from an environment variable) and the value they mean.
_YES_NO = (dict.fromkeys(("y", "yes", "on", "true", "kyllä"), "true")
           | dict.fromkeys(("n", "no", "off", "false", "ei"), "false"))
_WHOLE_NUMBER = re.compile(r"[-+]?\d{1,18}$")  # a longer run of digits is no count of anything


def explain(error: Any) -> str:
    """One pydantic error (from ``ValidationError.errors()``) as a sentence."""
    kind, value, ctx = error["type"], error.get("input"), error.get("ctx") or {}
    if kind == "string_type" and isinstance(value, int | float) and not isinstance(value, bool):
        return f'expected text, got the number {value!r}; write "{value}" in quotes'
    if kind == "value_error":
        text = str(ctx["error"])
        return text if "got" in text or isinstance(value, dict) else f"{text}; got {_show(value)}"
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        return f"expected one of {ctx.get('expected_tags', '')}; got {_show(ctx.get('tag'))}"
    if kind == "literal_error":
        return f"expected one of {ctx['expected']}; got {_show(value)}{_as_choice(value, ctx)}"
    if kind == "string_pattern_mismatch":
        text = _PATTERNS.get(ctx.get("pattern", ""), f"expected text matching {ctx.get('pattern')}")
        return f"{text}; got {_show(value)}"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        bound = next(iter(ctx.values()))
        relation = {"greater_than_equal": "at least", "less_than_equal": "at most",
                    "greater_than": "more than", "less_than": "less than"}[kind]
        return f"expected {relation} {_show(bound)}; got {_show(value)}"
    text = _FRIENDLY.get(kind) or str(error["msg"])
    if kind in {"missing", "extra_forbidden"}:
        return text
    return f"{text}; got {_show(value)}{_what_to_write(kind, value)}"


def _what_to_write(kind: str, value: object) -> str:
    """``; write ...`` when the value given reads as exactly one value of the expected kind."""
    if kind == "int_type":
        return _as_whole_number(value)
    if kind == "bool_type" and isinstance(value, str) and value.lower() in _YES_NO:
        return f"; write {_YES_NO[value.lower()]}"
    if kind == "string_type" and isinstance(value, bool):
        return f'; write "{str(value).lower()}" in quotes'
    if kind == "string_type" and isinstance(value, date):
        return f'; write "{value.isoformat()}" in quotes'
    return ""


def _as_whole_number(value: object) -> str:
    # "2" in quotes (or 08, which YAML reads as text) and 2.0 all mean the number 2
    if isinstance(value, str) and _WHOLE_NUMBER.match(value.strip()):
        return f"; write {int(value)} without quotes"
    if isinstance(value, float) and value.is_integer():
        return f"; write {int(value)}"
    return ""


def _as_choice(value: object, ctx: dict[str, Any]) -> str:
    # level: 2 is the number 2, while the choices are the texts '1', '2', ...
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if is_number and repr(str(value)) in str(ctx.get("expected", "")):
        return f'; write "{value}" in quotes'
    return ""


def _show(value: object) -> str:
    """A value as the operator wrote it: dates as YYYY-MM-DD, long values shortened."""
    text = f"'{value.isoformat()}'" if isinstance(value, date) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


