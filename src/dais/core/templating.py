"""``${variables}`` in specs, paths and SQL: resolved at run time with the logical date.

Syntax: ``${name}``; date variables take an offset and a format: ``${ds-1d}``, ``${ds+2h}``,
``${ds|%Y%m%d}``, ``${ds-1d|%Y/%m/%d}``. Offsets use ``s``, ``m``, ``h``, ``d`` and ``w``. ``$${`` writes a
literal ``${``. Built-ins: ``ds`` (the logical date, ``YYYY-MM-DD``), ``ts`` (the logical time,
ISO 8601), ``logical_date`` (same as ``ts``); any other name comes from the variables given.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from dais.core.errors import InvalidInput

_TOKEN = re.compile(r"\$\$\{|\$\{([^}]*)\}")
_EXPR = re.compile(
    r"^\s*(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*"
    r"(?:(?P<sign>[+-])\s*(?P<amount>\d+)\s*(?P<unit>[smhdw]))?\s*"
    r"(?:\|(?P<fmt>.*))?$"
)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_DEFAULT_FORMATS = {"ds": "%Y-%m-%d", "ts": "iso", "logical_date": "iso"}


def date_variables(logical_date: datetime) -> dict[str, datetime]:
    return {"ds": logical_date, "ts": logical_date, "logical_date": logical_date}


def render(text: str, variables: Mapping[str, Any], *, where: str = "template") -> str:
    """``text`` with every ``${...}`` replaced; :class:`InvalidInput` naming an unknown variable."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$${":
            return "${"
        expr = match.group(1)
        m = _EXPR.match(expr)
        if m is None:
            raise InvalidInput(
                f"In {where}: ${{{expr}}} is not a variable expression "
                "(use ${name}, ${ds-1d} or ${ds|%Y%m%d})."
            )
        name = m.group("name")
        if name not in variables:
            known = ", ".join(sorted(variables)) or "none"
            raise InvalidInput(f"In {where}: unknown variable ${{{name}}}; known: {known}.")
        value = variables[name]
        if isinstance(value, datetime):
            if m.group("amount"):
                delta = timedelta(**{_UNITS[m.group("unit")]: int(m.group("amount"))})
                value = value + delta if m.group("sign") == "+" else value - delta
            fmt = m.group("fmt") or _DEFAULT_FORMATS.get(name, "%Y-%m-%d")
            return value.isoformat() if fmt == "iso" else value.strftime(fmt)
        if m.group("amount") or m.group("fmt"):
            raise InvalidInput(f"In {where}: ${{{expr}}}: offsets and formats apply to dates only.")
        return str(value)

    return _TOKEN.sub(replace, text)


def render_value(value: Any, variables: Mapping[str, Any], *, where: str = "template") -> Any:
    """Render every string inside a JSON-like value (dicts, lists), keeping its shape."""
    if isinstance(value, str):
        return render(value, variables, where=where)
    if isinstance(value, list):
        return [render_value(v, variables, where=f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {k: render_value(v, variables, where=f"{where}.{k}") for k, v in value.items()}
    return value
