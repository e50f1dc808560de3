"""MLflow's search grammar for the registry: AND-ed comparisons and ``order_by`` clauses.

``name LIKE '%churn%' AND tags.team = 'risk'``, ``run_id IN ('a', 'b')``, ``version_number > 2``,
``tags.`a key` != 'x'``; ``order_by``: ``["name ASC", "last_updated_timestamp DESC"]``. Parsing is
separate from compiling: :func:`parse_filter` checks a filter against a :class:`Grammar` (which
entities, attributes and comparators a search accepts) and the services compile the comparisons to
SQL with :func:`compare`. Offset page tokens are base64 JSON, like MLflow's.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, literal, not_, or_
from sqlalchemy.orm import InstrumentedAttribute

from dais.registry.errors import RegistryInvalid

Entity = Literal["attribute", "tag", "param", "metric"]
Value = str | int | float | list[str]

_ENTITY_PREFIXES: dict[str, Entity] = {
    "attribute": "attribute",
    "attributes": "attribute",
    "attr": "attribute",
    "tag": "tag",
    "tags": "tag",
    "param": "param",
    "params": "param",
    "parameter": "param",
    "parameters": "param",
    "metric": "metric",
    "metrics": "metric",
}
STRING_OPS = frozenset({"=", "!=", "LIKE", "ILIKE"})
NUMERIC_OPS = frozenset({"=", "!=", "<", "<=", ">", ">="})
LIST_OPS = frozenset({"IN", "NOT IN"})

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<str>'(?:[^']|'')*'|"(?:[^"]|"")*")
      | (?P<bq>`[^`]*`)
      | (?P<num>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)(?![\w.])
      | (?P<op>!=|<>|<=|>=|=|<|>)
      | (?P<punct>[(),])
      | (?P<word>[A-Za-z_][\w.\-:/]*)
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class Comparison:
    """One ``<entity>.<key> <op> <value>`` clause."""

    entity: Entity
    key: str
    op: str
    value: Value


@dataclass(frozen=True)
class Grammar:
    """What one search accepts: attributes (string or numeric), and which other entities."""

    string_attributes: frozenset[str]
    numeric_attributes: frozenset[str] = frozenset()
    entities: frozenset[Entity] = frozenset({"attribute", "tag"})
    list_attributes: frozenset[str] = frozenset()
    order_keys: frozenset[str] = frozenset()
    aliases: dict[str, str] = field(default_factory=dict)

    @property
    def attributes(self) -> frozenset[str]:
        return self.string_attributes | self.numeric_attributes


@dataclass
class _Tokens:
    items: list[tuple[str, str]]
    pos: int = 0

    def peek(self) -> tuple[str, str] | None:
        return self.items[self.pos] if self.pos < len(self.items) else None

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        if tok is None:
            raise RegistryInvalid("The filter ends too early: a comparison is incomplete.")
        self.pos += 1
        return tok


def _tokenize(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise RegistryInvalid(f"Invalid filter '{text}': cannot parse it near {text[pos : pos + 20]!r}.")
        kind = m.lastgroup
        assert kind is not None
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


def _unquote(raw: str) -> str:
    quote = raw[0]
    return raw[1:-1].replace(quote * 2, quote)


def _identifier(tokens: _Tokens, grammar: Grammar) -> tuple[Entity, str]:
    kind, raw = tokens.take()
    if kind == "bq":
        return "attribute", _attribute(raw[1:-1], grammar)
    if kind != "word":
        raise RegistryInvalid(f"Invalid clause(s) in filter string: expected a column name, got {raw!r}.")
    prefix, dot, rest = raw.partition(".")
    if not dot:
        return "attribute", _attribute(raw, grammar)
    entity = _ENTITY_PREFIXES.get(prefix.lower())
    if entity is None:
        valid = sorted({"attribute", "tag"} | set(grammar.entities))
        raise RegistryInvalid(f"Invalid entity type '{prefix}'. Valid entity types are {valid}")
    if entity not in grammar.entities:
        raise RegistryInvalid(f"Filtering on {entity}s is not supported in this search.")
    if not rest:  # tags.`a key` or tags."a key"
        kind, raw = tokens.take()
        if kind not in ("bq", "str"):
            raise RegistryInvalid(f"Invalid {entity} key {raw!r}: quote it with backticks.")
        rest = raw[1:-1]
    elif rest.startswith(("`", '"')):
        rest = rest.strip('`"')
    if entity == "attribute":
        return entity, _attribute(rest, grammar)
    return entity, rest


def _attribute(key: str, grammar: Grammar) -> str:
    key = grammar.aliases.get(key, key)
    if key not in grammar.attributes:
        valid = sorted(grammar.attributes)
        raise RegistryInvalid(f"Invalid attribute key '{key}' specified. Valid keys are '{valid}'")
    return key


def _operator(tokens: _Tokens) -> str:
    kind, raw = tokens.take()
    if kind == "op":
        return "!=" if raw == "<>" else raw
    word = raw.upper()
    if kind == "word" and word in ("LIKE", "ILIKE", "IN"):
        return word
    if kind == "word" and word == "NOT":
        nxt = tokens.take()
        if nxt[1].upper() == "IN":
            return "NOT IN"
    raise RegistryInvalid(f"Invalid comparator {raw!r} in the filter.")


def _value(tokens: _Tokens) -> Value:
    kind, raw = tokens.take()
    if kind == "str":
        return _unquote(raw)
    if kind == "num":
        return float(raw) if any(c in raw for c in ".eE") else int(raw)
    if kind == "punct" and raw == "(":
        values: list[str] = []
        while True:
            kind, raw = tokens.take()
            if kind != "str":
                raise RegistryInvalid(f"Expected a list of quoted strings, got {raw!r}.")
            values.append(_unquote(raw))
            kind, raw = tokens.take()
            if raw == ")":
                return values
            if raw != ",":
                raise RegistryInvalid(f"Expected ',' or ')' in a list, got {raw!r}.")
    raise RegistryInvalid(f"Expected a quoted string value (e.g. 'my-value'). Got value {raw}")


def _check(comp: Comparison, grammar: Grammar) -> Comparison:
    numeric = comp.entity == "metric" or (
        comp.entity == "attribute" and comp.key in grammar.numeric_attributes
    )
    if comp.op in LIST_OPS:
        if comp.entity != "attribute" or comp.key not in grammar.list_attributes:
            raise RegistryInvalid(f"'{comp.op}' is not supported for '{comp.key}'.")
        return comp
    if numeric:
        if comp.op not in NUMERIC_OPS:
            raise RegistryInvalid(f"Invalid comparator '{comp.op}' for the numeric '{comp.key}'.")
        value = comp.value
        if isinstance(value, str):
            try:
                value = float(value) if comp.entity == "metric" else int(value)
            except ValueError as exc:
                raise RegistryInvalid(f"Invalid value for numeric '{comp.key}': {value!r}") from exc
        if comp.entity == "attribute" and isinstance(value, float):
            raise RegistryInvalid(f"Invalid value for numeric attribute '{comp.key}': {value!r}")
        return Comparison(comp.entity, comp.key, comp.op, value)
    if comp.op not in STRING_OPS:
        raise RegistryInvalid(f"Invalid comparator '{comp.op}' for '{comp.key}': use =, !=, LIKE or ILIKE.")
    if not isinstance(comp.value, str):
        raise RegistryInvalid(
            f"Expected a quoted string value for {comp.entity} '{comp.key}' (e.g. 'my-value'). "
            f"Got value {comp.value}"
        )
    return comp


def parse_filter(text: str | None, grammar: Grammar) -> list[Comparison]:
    """The comparisons of an AND-ed MLflow filter (empty for no filter); bad input -> RegistryInvalid."""
    if not text or not text.strip():
        return []
    tokens = _Tokens(_tokenize(text))
    out: list[Comparison] = []
    while True:
        entity, key = _identifier(tokens, grammar)
        op = _operator(tokens)
        out.append(_check(Comparison(entity, key, op, _value(tokens)), grammar))
        nxt = tokens.peek()
        if nxt is None:
            return out
        tokens.take()
        if nxt[0] != "word" or nxt[1].upper() != "AND":
            raise RegistryInvalid(
                f"Invalid clause(s) in filter string: {nxt[1]!r}. Only AND-ed comparisons are supported."
            )


def parse_order_by(items: list[str] | None, grammar: Grammar) -> list[tuple[str, bool]]:
    """``["name ASC", "last_updated_timestamp DESC"]`` -> ``[("name", True), (...)]``."""
    out: list[tuple[str, bool]] = []
    for item in items or []:
        parts = item.strip().replace("`", "").split()
        if not parts or len(parts) > 2:
            raise RegistryInvalid(f"Invalid order_by clause '{item}'. Could not be parsed.")
        key = parts[0]
        for prefix in ("attributes.", "attribute.", "attr."):
            key = key.removeprefix(prefix)
        key = grammar.aliases.get(key, key)
        if key not in grammar.order_keys:
            raise RegistryInvalid(
                f"Invalid order by key '{parts[0]}' specified. Valid keys are {sorted(grammar.order_keys)}"
            )
        ascending = True
        if len(parts) == 2:
            direction = parts[1].upper()
            if direction not in ("ASC", "DESC"):
                raise RegistryInvalid(f"Invalid ordering key in order_by clause '{item}'.")
            ascending = direction == "ASC"
        if any(k == key for k, _ in out):
            raise RegistryInvalid(f"`order_by` contains duplicate fields: {items}")
        out.append((key, ascending))
    return out


def _glob(pattern: str) -> str:
    """A SQL LIKE pattern as a GLOB pattern (case-sensitive on SQLite, where LIKE is not)."""
    out = []
    for ch in pattern:
        if ch == "%":
            out.append("*")
        elif ch == "_":
            out.append("?")
        elif ch in "*?[":
            out.append(f"[{ch}]")
        else:
            out.append(ch)
    return "".join(out)


def compare(
    column: InstrumentedAttribute[Any] | ColumnElement[Any], op: str, value: Value, dialect: str
) -> ColumnElement[bool]:
    """``column <op> value`` in SQL; LIKE is case-sensitive and ILIKE not, on every database."""
    if op == "LIKE":
        assert isinstance(value, str)
        if dialect == "sqlite":
            return column.op("GLOB")(_glob(value))
        return column.like(value)
    if op == "ILIKE":
        assert isinstance(value, str)
        return column.ilike(value)
    if op == "IN":
        return column.in_(value if isinstance(value, list) else [value])
    if op == "NOT IN":
        return not_(column.in_(value if isinstance(value, list) else [value]))
    ops: dict[str, Any] = {
        "=": column.__eq__,
        "!=": column.__ne__,
        "<": column.__lt__,
        "<=": column.__le__,
        ">": column.__gt__,
        ">=": column.__ge__,
    }
    return ops[op](value)  # type: ignore[no-any-return]


def all_of(clauses: list[ColumnElement[bool]]) -> ColumnElement[bool]:
    return and_(*clauses) if clauses else literal(True)


def any_of(clauses: list[ColumnElement[bool]]) -> ColumnElement[bool]:
    return or_(*clauses) if clauses else literal(False)


# -- page tokens -----------------------------------------------------------------------------------


def encode_page_token(offset: int) -> str:
    return base64.b64encode(json.dumps({"offset": offset}).encode()).decode()


def decode_page_token(token: str | None) -> int:
    """The offset a page token carries (0 for none); a bad token -> RegistryInvalid."""
    if not token:
        return 0
    try:
        data = json.loads(base64.b64decode(token, validate=True))
        offset = data["offset"]
    except (binascii.Error, ValueError, TypeError, KeyError) as exc:
        raise RegistryInvalid("Invalid page token, could not base64-decode it to an offset.") from exc
    if not isinstance(offset, int) or offset < 0:
        raise RegistryInvalid("Invalid page token: its offset must be a non-negative integer.")
    return offset
