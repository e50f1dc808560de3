"""The ``sql`` operator: a SELECT over up to three inputs, named ``t1``, ``t2``, ``t3`` (or as given).

The query is DuckDB SQL (other engines get it transpiled by sqlglot through Ibis). ``${variables}`` are
rendered with :mod:`dais.core.templating` when the pipeline runs. The output schema is found by asking
an in-memory DuckDB to describe the query over empty tables of the input schemas: exact, and the same
schema the built expression carries. The query must be one SELECT (or WITH ... SELECT); anything else is
refused before it reaches an engine.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar

import ibis
import ibis.expr.operations as ops
import ibis.expr.types as ir
import sqlglot
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlglot import exp

from dais.pipelines.operators._common import from_ibis_schema, input_schema, to_ibis_schema
from dais.pipelines.operators.base import BuildContext, Operator, ParamError, Port, TableSchema

_PORTS = ("in", "in2", "in3")
_TABLE_NAME = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"


class SqlParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str = Field(
        min_length=1,
        max_length=100_000,
        description="One SELECT in DuckDB SQL over the inputs t1, t2, t3; ${variables} allowed.",
        json_schema_extra={"x-dais-editor": "sql"},
    )
    names: list[str] = Field(
        default=["t1", "t2", "t3"],
        min_length=3,
        max_length=3,
        description="The table names of inputs in, in2, in3.",
    )

    @model_validator(mode="after")
    def _check(self) -> SqlParams:
        for name in self.names:
            if not re.match(_TABLE_NAME, name):
                raise ValueError(f"{name!r} is not a table name")
        if len(set(self.names)) != 3:
            raise ValueError("the three names must differ")
        return self


class Sql(Operator):
    """Run a SQL SELECT over the inputs."""

    id: ClassVar[str] = "sql"
    family: ClassVar[str] = "transform"
    title: ClassVar[str] = "SQL"
    description: ClassVar[str] = "A SELECT over up to three inputs (t1, t2, t3), with ${variables}."
    inputs: ClassVar[tuple[Port, ...]] = (
        Port("in"),
        Port("in2", required=False),
        Port("in3", required=False),
    )
    Params: ClassVar[type[BaseModel]] = SqlParams

    def infer(self, params: SqlParams, inputs: Mapping[str, TableSchema]) -> dict[str, TableSchema | None]:
        input_schema(inputs)
        query = _checked(params.query if "${" not in params.query else _blank_variables(params.query))
        query = _rewrite(query, params.names)
        tables = {
            _internal(params.names[i]): inputs[p] for i, p in enumerate(_PORTS) if inputs.get(p) is not None
        }
        if any(s.open for s in tables.values()):
            return {"out": TableSchema(open=True)}
        return {"out": from_ibis_schema(_describe(query, tables))}

    def build(self, ctx: BuildContext, params: SqlParams, inputs: Mapping[str, Any]) -> dict[str, Any]:
        from dais.core.templating import render

        query = _rewrite(_checked(render(params.query, ctx.variables, where="query")), params.names)
        tables: dict[str, ir.Table] = {
            _internal(params.names[i]): inputs[p] for i, p in enumerate(_PORTS) if inputs.get(p) is not None
        }
        schemas = {name: from_ibis_schema(t.schema()) for name, t in tables.items()}
        schema = _describe(query, schemas)
        aliased = [t.alias(name) for name, t in tables.items()]
        parent = aliased[0]
        for other in aliased[1:]:
            # only to make every aliased input part of the expression (each becomes a CTE named after it);
            # the cross join itself is never compiled: the SQL view ignores its parent's own query
            parent = parent.cross_join(other, rname="{name}__dais")
        return {"out": ops.SQLStringView(parent=parent.op(), query=query, schema=schema).to_expr()}


def _internal(name: str) -> str:
    return f"__dais_sql_{name}"


def _rewrite(query: str, names: list[str]) -> str:
    """``query`` with the input names pointing at internal names (``FROM t1`` becomes
    ``FROM __dais_sql_t1 AS t1``), so that no table or view of the engine that happens to be called
    ``t1`` is read instead."""
    tree = sqlglot.parse_one(query, read="duckdb")
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    for table in tree.find_all(exp.Table):
        if table.name in names and not table.db and table.name not in ctes:
            alias = table.alias or table.name
            table.set("this", exp.to_identifier(_internal(table.name), quoted=True))
            table.set("alias", exp.TableAlias(this=exp.to_identifier(alias, quoted=True)))
    return tree.sql(dialect="duckdb")


def _checked(query: str) -> str:
    try:
        statements = [s for s in sqlglot.parse(query, read="duckdb") if s is not None]
    except sqlglot.errors.ParseError as exc:
        raise ParamError("query", f"Cannot parse the query: {exc.errors[0]['description']}.") from exc
    if len(statements) != 1:
        raise ParamError("query", "Give exactly one SELECT statement.")
    if not isinstance(statements[0], exp.Query):
        raise ParamError("query", "Only SELECT queries are allowed.")
    forbidden = (exp.Insert, exp.Update, exp.Delete, exp.Create, exp.Drop, exp.Command, exp.Copy, exp.Pragma)
    if any(statements[0].find_all(*forbidden)):
        raise ParamError("query", "Only SELECT queries are allowed.")
    for node in statements[0].find_all(exp.Anonymous, exp.Func):
        name = node.name.lower() if isinstance(node, exp.Anonymous) else ""
        if name.startswith(("read_", "glob", "sniff_")) or isinstance(node, exp.ReadCSV):
            raise ParamError("query", f"Reading files from SQL is not allowed ({node.sql()!r}).")
    return query


def _blank_variables(query: str) -> str:
    return re.sub(r"'\$\{[^}]*\}'|\$\{[^}]*\}", "NULL", query)


def _describe(query: str, tables: Mapping[str, TableSchema]) -> ibis.Schema:
    """The schema of ``query`` over empty tables of ``tables`` (an in-memory DuckDB, nothing read)."""
    con = ibis.duckdb.connect()
    try:
        for name, schema in tables.items():
            columns = ", ".join(
                f"{exp.to_identifier(n, quoted=True).sql('duckdb')} {_duck_type(t)}"
                for n, t in to_ibis_schema(schema).items()
            )
            con.raw_sql(f'CREATE TABLE "{name}" ({columns})')
        try:
            rows = con.con.execute(f"DESCRIBE {query}").fetchall()
        except Exception as exc:
            raise ParamError("query", f"Invalid query: {str(exc).splitlines()[0]}") from exc
    finally:
        con.disconnect()
    from ibis.backends.sql.datatypes import DuckDBType

    return ibis.schema(
        {name: DuckDBType.from_string(type_text, nullable=True) for name, type_text, *_ in rows}
    )


def _duck_type(dtype: Any) -> str:
    from ibis.backends.sql.datatypes import DuckDBType

    return str(DuckDBType.from_ibis(dtype).sql("duckdb"))
