"""JSON: a file holds either one array of records or one record per line (JSON lines).

JSON lines go through ``pyarrow.dataset``. A JSON array has no streaming reader in Arrow, so
:class:`ArrayAsLines` decodes its records one at a time (``json.JSONDecoder.raw_decode`` on a
bounded buffer) and hands them to :func:`pyarrow.json.open_json` as lines: memory stays bounded by
the largest record, and the schema is inferred the same way for both shapes.
"""

from __future__ import annotations

import codecs
import io
import json
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.json as pajson

from dais.data.connectors.base import UnreadableData
from dais.data.listing import guarded

_CHUNK = 1024 * 1024
#: Arrow parses JSON in blocks; one record must fit in one.
BLOCK_BYTES = 8 * 1024 * 1024
_WS = " \t\r\n"


def json_shape(fs: pafs.FileSystem, path: str, what: str) -> str:
    """``"array"`` or ``"lines"`` from a file's first non-blank character."""

    def peek() -> bytes:
        with fs.open_input_stream(path, compression="detect") as f:
            return bytes(f.read(64 * 1024))

    head = guarded(peek, path).lstrip(codecs.BOM_UTF8).lstrip()
    if not head:
        raise UnreadableData(f"{what} is empty: nothing to register.")
    if head[:1] == b"[":
        return "array"
    if head[:1] == b"{":
        return "lines"
    raise UnreadableData(f"{what} is not JSON records: it starts with {head[:20]!r}, not '[' or '{{'.")


def lines_need_multiline(fs: pafs.FileSystem, path: str) -> bool:
    """Whether a JSON-lines file's first record spans lines (pretty-printed)."""

    def first_line() -> bytes:
        with fs.open_input_stream(path, compression="detect") as f:
            return bytes(f.read(64 * 1024)).lstrip(codecs.BOM_UTF8).lstrip().split(b"\n", 1)[0]

    line = guarded(first_line, path)
    try:
        json.loads(line)
    except ValueError:
        return True
    return False


def _records(fs: pafs.FileSystem, paths: list[str]) -> Iterator[bytes]:
    """Each record of each file's JSON array, re-encoded as one line."""
    decoder = json.JSONDecoder()
    for path in paths:
        stream = fs.open_input_stream(path, compression="detect")
        text_decoder = codecs.getincrementaldecoder("utf-8-sig")("strict")
        buf, pos, consumed, eof, started = "", 0, 0, False, False
        chunk = _CHUNK
        try:
            while True:
                while pos < len(buf) and (buf[pos] in _WS or (started and buf[pos] == ",")):
                    pos += 1
                if pos >= len(buf) and not eof:
                    consumed += pos
                    data = bytes(stream.read(chunk))
                    eof = not data
                    buf, pos = buf[pos:] + text_decoder.decode(data, final=eof), 0
                    continue
                if not started:
                    if buf[pos : pos + 1] != "[":
                        raise UnreadableData(f"{path}: expected a JSON array at character {consumed + pos}.")
                    started, pos = True, pos + 1
                    continue
                if pos >= len(buf):
                    raise UnreadableData(
                        f"{path}: the JSON array is not closed (file ends at character {consumed})."
                    )
                if buf[pos] == "]":
                    break
                try:
                    obj, end = decoder.raw_decode(buf, pos)
                except json.JSONDecodeError as exc:
                    if eof:
                        raise UnreadableData(
                            f"{path}: invalid JSON at character {consumed + exc.pos}: {exc.msg}."
                        ) from exc
                    data = bytes(stream.read(chunk))
                    eof = not data
                    chunk = min(chunk * 2, 64 * _CHUNK)
                    buf += text_decoder.decode(data, final=eof)
                    continue
                if not isinstance(obj, dict):
                    raise UnreadableData(
                        f"{path}: item at character {consumed + pos} is {type(obj).__name__}, "
                        "not a record (object)."
                    )
                yield json.dumps(obj, ensure_ascii=False).encode() + b"\n"
                pos = end
                if pos > _CHUNK:
                    consumed += pos
                    buf, pos = buf[pos:], 0
        except UnicodeDecodeError as exc:
            raise UnreadableData(
                f"{path} is not valid UTF-8 near byte offset {consumed}: {exc.reason}."
            ) from exc
        finally:
            stream.close()


class ArrayAsLines(io.RawIOBase):
    """A read-only byte stream of JSON lines made from JSON-array files."""

    def __init__(self, fs: pafs.FileSystem, paths: list[str]) -> None:
        super().__init__()
        self._lines = _records(fs, paths)
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        want = len(buffer)
        while len(self._pending) < want:
            line = next(self._lines, None)
            if line is None:
                break
            self._pending += line
        n = min(want, len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n


def array_reader(
    fs: pafs.FileSystem, paths: list[str], *, schema: pa.Schema | None = None
) -> pa.RecordBatchReader:
    """A streaming reader over the records of JSON-array files (schema inferred from the first block)."""
    stream = io.BufferedReader(ArrayAsLines(fs, paths), buffer_size=_CHUNK)
    return pajson.open_json(
        stream,
        read_options=pajson.ReadOptions(block_size=BLOCK_BYTES),
        parse_options=pajson.ParseOptions(
            explicit_schema=schema, unexpected_field_behavior="ignore" if schema else "infer"
        ),
    )
