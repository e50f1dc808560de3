"""Tables datasets: a table or a query of a tables connector (SQL), streamed from a server-side cursor."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import pyarrow as pa

from dais.core.errors import InvalidInput
from dais.core.templating import render
from dais.data.connectors.base import TablesConnector
from dais.data.partitions import template_variables
from dais.data.source import DataFormat, SourceSpec
from dais.data.streams import DataReader, StreamReader, conform, limited


def tables_reader(
    connector: TablesConnector, source: SourceSpec, variables: Mapping[str, str] | None, timeout_s: float
) -> DataReader:
    """A reader over a table or a query (``${...}`` in a query rendered with ``variables``)."""
    table, query = source.table, source.query
    if not table and not query:
        raise InvalidInput("A tables connection needs a table or a query.")
    if query and "${" in query:
        query = render(query, template_variables(variables), where="query")
    what = f"table {table}" if table else "the query"
    schema = connector.arrow_schema(table=table, query=query, timeout_s=timeout_s)
    fmt = DataFormat.table if table else DataFormat.query

    return TableReader(connector, table, query, schema, fmt, what, timeout_s)


class TableReader(StreamReader):
    """A table or a query of a tables connector, streamed from a server-side cursor."""

    def __init__(
        self,
        connector: TablesConnector,
        table: str | None,
        query: str | None,
        schema: pa.Schema,
        fmt: DataFormat,
        what: str,
        timeout_s: float,
    ) -> None:
        def make(batch_rows: int) -> Iterator[pa.RecordBatch]:
            yield from connector.read(table=table, query=query, batch_rows=batch_rows, timeout_s=timeout_s)

        def count() -> int | None:
            return connector.row_count(table=table, query=query, timeout_s=timeout_s)

        super().__init__(schema, fmt, what, connector, make, counter=count)
        self.table, self.query, self._timeout_s = table, query, timeout_s
        self._tables = connector

    def head(self, rows: int) -> pa.Table:
        """The first rows, asking the source for no more (``LIMIT``)."""

        def first() -> Iterator[pa.RecordBatch]:
            yield from self._tables.read(
                table=self.table,
                query=self.query,
                limit=rows,
                batch_rows=max(rows, 1),
                timeout_s=self._timeout_s,
            )

        batches = [
            b if b.schema == self.schema else conform(b, self.schema) for b in self._translated(first())
        ]
        return pa.Table.from_batches(list(limited(iter(batches), rows)), schema=self.schema)
