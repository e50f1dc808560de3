"""A safe expression language for ``filter`` and ``formula``: SQL scalar expressions, parsed by sqlglot
and translated node by node into Ibis expressions over one table. Nothing is evaluated as Python and
no SQL text reaches an engine: only the nodes below are accepted, every column name is checked, and
anything else is a :class:`~dais.pipelines.operators.base.ParamError`.

Accepted: column names (double-quote odd ones: ``"my col"``), numbers, 'strings', ``true``/``false``/
``null``; ``+ - * / // % ^``; ``= != <> < <= > >=``; ``and or not``; ``is [not] null``;
``[not] in (...)``; ``between``; ``[i]like``; ``||`` (concatenate); ``case when ... then ... else ... end``;
``if(c, a, b)``; ``cast(x as type)``; functions ``abs sign sqrt exp ln log log10 log2 pow power round
floor ceil least greatest coalesce lower upper length trim year month day hour minute second
dayofweek``. ``log(x)`` is base 10 (as in DuckDB), ``ln(x)`` natural.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import ibis
import ibis.expr.types as ir
import sqlglot
from sqlglot import exp

from dais.pipelines.operators.base import ParamError

_MAX_LENGTH = 10_000

_BINARY: dict[type[exp.Expression], Callable[[Any, Any], Any]] = {
    exp.Add: lambda a, b: a + b,
    exp.Sub: lambda a, b: a - b,
    exp.Mul: lambda a, b: a * b,
    exp.Div: lambda a, b: a / b,
    exp.IntDiv: lambda a, b: a // b,
    exp.Mod: lambda a, b: a % b,
    exp.Pow: lambda a, b: a**b,
    exp.EQ: lambda a, b: a == b,
    exp.NEQ: lambda a, b: a != b,
    exp.GT: lambda a, b: a > b,
    exp.GTE: lambda a, b: a >= b,
    exp.LT: lambda a, b: a < b,
    exp.LTE: lambda a, b: a <= b,
    exp.And: lambda a, b: a & b,
    exp.Or: lambda a, b: a | b,
    exp.Like: lambda a, b: a.like(b),
    exp.ILike: lambda a, b: a.ilike(b),
    exp.DPipe: lambda a, b: a.concat(b),
}

_UNARY_FUNCS: dict[type[exp.Expression], Callable[[Any], Any]] = {
    exp.Abs: lambda a: a.abs(),
    exp.Sign: lambda a: a.sign(),
    exp.Sqrt: lambda a: a.sqrt(),
    exp.Exp: lambda a: a.exp(),
    exp.Ln: lambda a: a.ln(),
    exp.Lower: lambda a: a.lower(),
    exp.Upper: lambda a: a.upper(),
    exp.Length: lambda a: a.length(),
    exp.Year: lambda a: a.year(),
    exp.Month: lambda a: a.month(),
    exp.Day: lambda a: a.day(),
    exp.Hour: lambda a: a.hour(),
    exp.Minute: lambda a: a.minute(),
    exp.Second: lambda a: a.second(),
    exp.DayOfWeek: lambda a: a.day_of_week.index(),
}

_ANONYMOUS: dict[str, Callable[[list[Any]], Any]] = {
    "log2": lambda a: a[0].log2(),
    "log10": lambda a: a[0].log10(),
}


class _Translator:
    def __init__(self, table: ibis.Table, field: str) -> None:
        self.table = table
        self.field = field

    def fail(self, message: str) -> ParamError:
        return ParamError(self.field, message)

    def __call__(self, node: exp.Expression) -> Any:
        if isinstance(node, exp.Paren):
            return self(node.this)
        if isinstance(node, exp.Column):
            if node.table:
                raise self.fail(f"Use plain column names, not {node.sql()!r}.")
            name = node.name
            if name not in self.table.columns:
                known = ", ".join(self.table.columns)
                raise self.fail(f"Unknown column {name!r} (columns: {known}).")
            return self.table[name]
        if isinstance(node, exp.Literal):
            if node.is_string:
                return ibis.literal(node.this)
            text = node.this
            return ibis.literal(float(text) if any(ch in text for ch in ".eE") else int(text))
        if isinstance(node, exp.Boolean):
            return ibis.literal(bool(node.this))
        if isinstance(node, exp.Null):
            return ibis.null()
        if isinstance(node, exp.Neg):
            return -self(node.this)
        if isinstance(node, exp.Not):
            return ~self(node.this)
        if type(node) in _BINARY:
            return _BINARY[type(node)](self(node.this), self(node.expression))
        if isinstance(node, exp.Is):
            if not isinstance(node.expression, exp.Null):
                raise self.fail("Only 'is null' and 'is not null' are supported.")
            return self(node.this).isnull()
        if isinstance(node, exp.In):
            if node.args.get("query") or not node.expressions:
                raise self.fail("'in' takes a list of values.")
            return self(node.this).isin([self(e) for e in node.expressions])
        if isinstance(node, exp.Between):
            return self(node.this).between(self(node.args["low"]), self(node.args["high"]))
        if isinstance(node, exp.Case):
            if node.this is not None:
                raise self.fail("Use 'case when <condition> then ...' (a searched case).")
            cases = [(self(i.this), self(i.args["true"])) for i in node.args.get("ifs", [])]
            default = node.args.get("default")
            return ibis.cases(*cases, else_=self(default) if default is not None else None)
        if isinstance(node, exp.If):
            false = node.args.get("false")
            return ibis.ifelse(
                self(node.this), self(node.args["true"]), self(false) if false else ibis.null()
            )
        if isinstance(node, exp.Cast):
            try:
                target = ibis.dtype(node.to.sql(dialect="duckdb").lower())
            except Exception as exc:
                raise self.fail(f"Unknown type in {node.sql()!r}.") from exc
            return self(node.this).cast(target)
        if type(node) in _UNARY_FUNCS:
            return _UNARY_FUNCS[type(node)](self(node.this))
        if isinstance(node, exp.Log):
            if node.expression is None:
                return self(node.this).log10()
            return self(node.expression).log(self(node.this))
        if isinstance(node, exp.Round):
            digits = node.args.get("decimals")
            return self(node.this).round(self._int(digits) if digits is not None else None)
        if isinstance(node, exp.Floor | exp.Ceil):
            if node.args.get("decimals") is not None:
                raise self.fail(f"{node.sql_name().lower()} takes one argument.")
            value = self(node.this)
            return value.floor() if isinstance(node, exp.Floor) else value.ceil()
        if isinstance(node, exp.Trim):
            if node.args.get("expression") is not None or node.args.get("position"):
                raise self.fail("trim takes one argument.")
            return self(node.this).strip()
        if isinstance(node, exp.Coalesce | exp.Least | exp.Greatest):
            args = [self(node.this), *(self(e) for e in node.expressions)]
            fn = {exp.Coalesce: ibis.coalesce, exp.Least: ibis.least, exp.Greatest: ibis.greatest}[type(node)]
            return fn(*args)
        if isinstance(node, exp.Anonymous) and node.name.lower() in _ANONYMOUS:
            return _ANONYMOUS[node.name.lower()]([self(e) for e in node.expressions])
        if isinstance(node, exp.Anonymous):
            what = node.name
        else:
            what = node.sql_name().lower() if isinstance(node, exp.Func) else type(node).__name__
        raise self.fail(f"{what!r} is not allowed in an expression: {node.sql()!r}.")

    def _int(self, node: exp.Expression) -> int:
        if isinstance(node, exp.Literal) and not node.is_string and node.this.lstrip("-").isdigit():
            return int(node.this)
        raise self.fail(f"Expected a whole number, got {node.sql()!r}.")


def parse_expression(text: str, table: ibis.Table, *, field: str = "expression") -> ir.Value:
    """``text`` as an Ibis value expression over ``table``; :class:`ParamError` naming ``field``."""
    if not text.strip():
        raise ParamError(field, "The expression is empty.")
    if len(text) > _MAX_LENGTH:
        raise ParamError(field, f"The expression is longer than {_MAX_LENGTH} characters.")
    try:
        parsed = sqlglot.parse(text, read="duckdb")
    except sqlglot.errors.ParseError as exc:
        raise ParamError(field, f"Cannot parse the expression: {exc.errors[0]['description']}.") from exc
    if len(parsed) != 1 or parsed[0] is None:
        raise ParamError(field, "Give exactly one expression.")
    node = parsed[0]
    if not isinstance(node, exp.Condition | exp.Func | exp.Paren):
        raise ParamError(field, f"Not a value expression: {node.sql()!r}.")
    try:
        value = _Translator(table, field)(cast(exp.Expression, node))
    except ParamError:
        raise
    except Exception as exc:  # Ibis refuses an operation on these types (e.g. 'a' + 1)
        raise ParamError(field, f"Invalid expression: {str(exc).splitlines()[0]}") from exc
    if not isinstance(value, ir.Value):
        raise ParamError(field, "Not a value expression.")
    return value
