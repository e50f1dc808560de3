"""Printing results: rich tables by default, ``-o json`` or ``-o yaml`` for scripts."""

from __future__ import annotations

import enum
import json
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Annotated, Any

import typer


class Format(enum.StrEnum):
    """How listings and objects are printed."""

    table = "table"
    json = "json"
    yaml = "yaml"


OutputOpt = Annotated[
    Format, typer.Option("--output", "-o", help="Print as a table, JSON or YAML.", case_sensitive=False)
]

Column = tuple[str, str | Callable[[Any], Any]]


def _plain(obj: Any) -> Any:
    dump = getattr(obj, "model_dump", None)
    if callable(dump):
        return dump(mode="json")
    return obj


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    return str(value)


def _value(obj: Any, getter: str | Callable[[Any], Any]) -> Any:
    return getter(obj) if callable(getter) else getattr(obj, getter, None)


def dump(data: Any, fmt: Format) -> str:
    """``data`` (models, dicts, lists of them) as JSON or YAML text."""
    plain = [_plain(d) for d in data] if isinstance(data, list) else _plain(data)
    if fmt == Format.yaml:
        import yaml

        return str(yaml.safe_dump(plain, sort_keys=False, allow_unicode=True)).rstrip("\n")
    return json.dumps(plain, indent=2, ensure_ascii=False)


def print_list(
    items: Iterable[Any], columns: Sequence[Column], fmt: Format, *, title: str | None = None
) -> None:
    """A listing: a table with ``columns`` (header, attribute or function), or every field as JSON/YAML."""
    rows = list(items)
    if fmt != Format.table:
        typer.echo(dump(rows, fmt))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, show_lines=False, header_style="bold")
    for header, _ in columns:
        table.add_column(header, overflow="fold")
    for row in rows:
        table.add_row(*(_cell(_value(row, getter)) for _, getter in columns))
    console = Console()
    console.print(table)
    if not rows:
        console.print("[dim]Nothing to show.[/dim]")


def print_object(obj: Any, fmt: Format, *, fields: Sequence[str] | None = None) -> None:
    """One object: a two-column table of its fields, or JSON/YAML."""
    if fmt != Format.table:
        typer.echo(dump(obj, fmt))
        return
    from rich.console import Console
    from rich.table import Table

    plain = _plain(obj)
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for key in fields or list(plain):
        raw = getattr(obj, key, plain.get(key))
        table.add_row(key, _cell(raw))
    Console().print(table)


def say(message: str) -> None:
    """A line for a person (rich markup allowed), on standard output."""
    from rich.console import Console

    Console(highlight=False, soft_wrap=True).print(message)
