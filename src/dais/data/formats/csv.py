"""CSV: sniff the encoding (charset-normalizer), delimiter, quote and header on the first bytes.

What :class:`~dais.data.source.CsvOptions` sets always wins over what is sniffed. Errors name where
the file goes wrong: a ragged row names its line, a bad byte its offset and the encoding expected.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.dataset as ds
import pyarrow.fs as pafs

from dais.data.connectors.base import UnreadableData
from dais.data.formats import extension
from dais.data.listing import guarded
from dais.data.source import CsvOptions

#: How much of a file sniffing looks at.
SNIFF_BYTES = 64 * 1024
_DELIMITERS = ",;\t|"
_PREFERRED = ("cp1252", "iso8859_1", "iso8859_15")
_NUMBER = re.compile(r"^\s*[-+]?(\d+([.,]\d*)?|\.\d+)([eE][-+]?\d+)?\s*$")
_ROW_ERROR = re.compile(r"Row #(\d+): Expected (\d+) columns, got (\d+)")


@dataclass
class CsvDialect:
    """What reading a CSV file needs: sniffed, or set by :class:`CsvOptions`."""

    encoding: str
    delimiter: str
    quote_char: str
    header: bool
    columns: int
    newlines_in_values: bool = False
    invalid_rows: list[Any] = field(default_factory=list)

    def file_format(self) -> ds.CsvFileFormat:
        """The pyarrow dataset format for this dialect (ragged rows recorded, then raised)."""

        def on_invalid_row(row: Any) -> str:
            self.invalid_rows.append(row)
            return "error"

        read = pacsv.ReadOptions(
            encoding="utf8" if codecs.lookup(self.encoding).name in ("utf-8", "utf-8-sig") else self.encoding,
            column_names=None if self.header else [f"column_{i + 1}" for i in range(self.columns)],
        )
        parse = pacsv.ParseOptions(
            delimiter=self.delimiter,
            quote_char=self.quote_char,
            newlines_in_values=self.newlines_in_values,
            invalid_row_handler=on_invalid_row,
        )
        return ds.CsvFileFormat(read_options=read, parse_options=parse)

    def explain(self, exc: BaseException, what: str) -> UnreadableData | None:
        """A clear error for a pyarrow CSV failure (ragged row, bad encoding), or ``None``."""
        message = str(exc)
        m = _ROW_ERROR.search(message)
        if m:
            row, expected, got = m.groups()
            return UnreadableData(
                f"{what}: line {row} has {got} fields where the header row has {expected} "
                f"(delimiter {self.delimiter!r}); fix the file or set csv.delimiter."
            )
        if "invalid UTF8" in message or "UTF-8" in message or "decode" in message.lower():
            return UnreadableData(f"{what}: not valid {self.encoding}: {message}; set csv.encoding.")
        return None


def read_head(fs: pafs.FileSystem, path: str, size: int = SNIFF_BYTES) -> bytes:
    """The first ``size`` bytes of a file (decompressed when its name says so)."""

    def read() -> bytes:
        with fs.open_input_stream(path, compression="detect") as f:
            return bytes(f.read(size))

    return guarded(read, path)


def bad_byte_offset(data: bytes, encoding: str, *, final: bool) -> tuple[int, int] | None:
    """``(offset, byte)`` of the first byte ``encoding`` cannot decode in ``data``, or ``None``."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    try:
        decoder.decode(data, final=final)
    except UnicodeDecodeError as exc:
        return exc.start, data[exc.start]
    return None


def find_bad_bytes(
    fs: pafs.FileSystem, path: str, encoding: str, limit: int = 8 * 1024 * 1024
) -> tuple[int, int] | None:
    """Scan up to ``limit`` bytes of a file for the first byte ``encoding`` cannot decode."""

    def scan() -> tuple[int, int] | None:
        decoder = codecs.getincrementaldecoder(encoding)("strict")
        offset = 0
        with fs.open_input_stream(path, compression="detect") as f:
            while offset < limit:
                chunk = bytes(f.read(1024 * 1024))
                try:
                    decoder.decode(chunk, final=not chunk)
                except UnicodeDecodeError as exc:
                    # exc.start counts from the start of the decoder's pending bytes plus this chunk
                    pending = len(exc.object) - len(chunk)
                    return offset - pending + exc.start, exc.object[exc.start]
                if not chunk:
                    return None
                offset += len(chunk)
        return None

    return guarded(scan, path)


def detect_encoding(head: bytes, declared: str | None, what: str, *, complete: bool) -> str:
    """The encoding of a file from its first bytes; ``declared`` (from CsvOptions) is checked, not guessed."""
    if declared:
        try:
            codecs.lookup(declared)
        except LookupError as exc:
            raise UnreadableData(f"Unknown encoding {declared!r} for {what}.") from exc
        bad = bad_byte_offset(head, declared, final=complete)
        if bad:
            raise UnreadableData(
                f"{what} is not valid {declared}: byte 0x{bad[1]:02x} at byte offset {bad[0]} "
                "cannot be decoded."
            )
        return declared
    if head.startswith(codecs.BOM_UTF8):
        enc = "utf-8-sig"
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        enc = "utf-16"
    else:
        enc = "utf-8"
    bad = bad_byte_offset(head, enc, final=complete)
    if bad is None:
        if enc == "utf-8" and (nul := head.find(b"\x00")) != -1:
            raise UnreadableData(f"{what} holds binary data (a NUL byte at byte offset {nul}), not text.")
        return enc
    from charset_normalizer import from_bytes

    matches = from_bytes(head) if b"\x00" not in head else None
    guess = matches.best() if matches is not None else None
    if matches is None or guess is None or not guess.encoding:
        raise UnreadableData(
            f"{what} is not valid {enc}: byte 0x{bad[1]:02x} at byte offset {bad[0]} cannot be decoded, "
            "and no other text encoding fits; set csv.encoding."
        )
    # charset-normalizer often ties several single-byte code pages; prefer the common Western one
    tied = [m for m in matches if m.chaos == guess.chaos and m.coherence == guess.coherence]
    for preferred in _PREFERRED:
        if any(m.encoding == preferred or preferred in m.could_be_from_charset for m in tied):
            return preferred
    return str(guess.encoding)


def _decoded(head: bytes, encoding: str, *, complete: bool) -> str:
    text = codecs.getincrementaldecoder(encoding)("replace").decode(head, final=True)
    if not complete and "\n" in text:
        text = text[: text.rindex("\n") + 1]  # drop a partial last line
    return text.lstrip("\ufeff")


def _is_number(value: str) -> bool:
    return bool(_NUMBER.match(value))


def sniff_csv(fs: pafs.FileSystem, path: str, options: CsvOptions | None, what: str) -> CsvDialect:
    """Encoding, delimiter, quote char and header of a CSV file, from its first :data:`SNIFF_BYTES`."""
    opts = options or CsvOptions()
    head = read_head(fs, path)
    if not head.strip():
        raise UnreadableData(f"{what} is empty: nothing to register.")
    complete = len(head) < SNIFF_BYTES
    encoding = detect_encoding(head, opts.encoding, what, complete=complete)
    text = _decoded(head, encoding, complete=complete)
    sample = "".join(text.splitlines(keepends=True)[:50])

    sniffed: type[csv.Dialect] | None = None
    try:
        sniffed = csv.Sniffer().sniff(sample[:16_384], delimiters=_DELIMITERS)
    except csv.Error:
        sniffed = None
    if opts.delimiter:
        delimiter = opts.delimiter
    elif extension(path) == "tsv":
        delimiter = "\t"
    elif sniffed is not None:
        delimiter = sniffed.delimiter
    else:
        first = sample.splitlines()[0] if sample else ""
        counts = {d: first.count(d) for d in _DELIMITERS}
        best = max(counts, key=lambda d: counts[d])
        delimiter = best if counts[best] else ","
    quote_char = opts.quote_char or (sniffed.quotechar if sniffed is not None and sniffed.quotechar else '"')

    rows = list(csv.reader(io.StringIO(sample), delimiter=delimiter, quotechar=quote_char))
    rows = [r for r in rows if r]
    if not rows:
        raise UnreadableData(f"{what} is empty: nothing to register.")
    if opts.header is not None:
        header = opts.header
    else:
        try:
            header = csv.Sniffer().has_header(sample[:16_384])
        except csv.Error:
            header = False
        # a first row with no numbers and no blanks is almost always a header
        header = header or all(v.strip() and not _is_number(v) for v in rows[0])
    newlines = any("\n" in v or "\r" in v for r in rows for v in r)
    return CsvDialect(
        encoding=encoding,
        delimiter=delimiter,
        quote_char=quote_char,
        header=header,
        columns=len(rows[0]),
        newlines_in_values=newlines,
    )


def check_utf8_columns(
    schema: pa.Schema, dialect: CsvDialect, fs: pafs.FileSystem, path: str, what: str
) -> None:
    """pyarrow reads undecodable UTF-8 as a binary column: report the bad byte instead."""
    if codecs.lookup(dialect.encoding).name not in ("utf-8", "utf-8-sig"):
        return
    binary = [f.name for f in schema if pa.types.is_binary(f.type) or pa.types.is_large_binary(f.type)]
    if not binary:
        return
    bad = find_bad_bytes(fs, path, "utf-8")
    where = f": byte 0x{bad[1]:02x} at byte offset {bad[0]} cannot be decoded" if bad else ""
    raise UnreadableData(
        f"{what} is not valid {dialect.encoding}{where} (column {binary[0]!r}); set csv.encoding."
    )
