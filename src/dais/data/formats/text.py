"""Text: one row per line, in a column named ``text`` (encoding sniffed like CSV's)."""

from __future__ import annotations

import codecs
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.fs as pafs

from dais.data.connectors.base import UnreadableData

SCHEMA = pa.schema([pa.field("text", pa.string())])
_CHUNK = 1024 * 1024


def text_batches(
    fs: pafs.FileSystem, paths: list[str], encoding: str, batch_rows: int
) -> Iterator[pa.RecordBatch]:
    """Lines of each file (without their line ends), ``batch_rows`` at a time."""
    lines: list[str] = []
    for path in paths:
        name = "utf-8-sig" if codecs.lookup(encoding).name == "utf-8" else encoding  # drops a BOM
        decoder = codecs.getincrementaldecoder(name)("strict")
        offset, rest = 0, ""
        with fs.open_input_stream(path, compression="detect") as f:
            while True:
                data = bytes(f.read(_CHUNK))
                try:
                    text = rest + decoder.decode(data, final=not data)
                except UnicodeDecodeError as exc:
                    pending = len(exc.object) - len(data)
                    raise UnreadableData(
                        f"{path} is not valid {encoding}: byte 0x{exc.object[exc.start]:02x} at byte offset "
                        f"{offset - pending + exc.start} cannot be decoded."
                    ) from exc
                offset += len(data)
                parts = text.splitlines()
                partial = data and parts and not text.endswith(("\n", "\r"))
                rest = parts.pop() if partial else ""
                for line in parts:
                    lines.append(line)
                    if len(lines) >= batch_rows:
                        yield pa.record_batch([pa.array(lines, pa.string())], schema=SCHEMA)
                        lines = []
                if not data:
                    break
    if lines:
        yield pa.record_batch([pa.array(lines, pa.string())], schema=SCHEMA)
