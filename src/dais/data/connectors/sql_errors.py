"""Driver errors (psycopg, pymysql, sqlite3) as :class:`SourceError` subclasses, in the driver's words."""

from __future__ import annotations

import re
import sqlite3

from dais.data.connectors.base import (
    SourceAccessDenied,
    SourceError,
    SourceNotFound,
    SourceTimeout,
    SourceUnreachable,
)
from dais.data.connectors.calls import scrub

_PG_TIMEOUT = {"57014", "55P03"}  # query_canceled (statement_timeout), lock_not_available
_PG_DENIED = {"28P01", "28000", "42501"}
_PG_NOT_FOUND = {"3D000", "42P01", "3F000"}
_MY_TIMEOUT = {1969, 3024, 1205}  # MariaDB max_statement_time, MySQL max_execution_time, lock wait
_MY_DENIED = {1044, 1045, 1142, 1143, 1227, 1698}
_MY_NOT_FOUND = {1049, 1146}
_MY_UNREACHABLE = {2002, 2003, 2005, 2006, 2013, 2055}
_READ_ONLY = "Queries run read-only: a statement that writes is refused."


def sql_error(exc: BaseException, *, secret: str | None = None) -> SourceError:
    """Map a SQLAlchemy/driver exception; the message is the driver's, without ``secret``."""
    if isinstance(exc, SourceError):
        return exc
    orig: BaseException = getattr(exc, "orig", None) or exc
    message = scrub(_driver_message(orig), secret)
    sqlstate = getattr(orig, "sqlstate", None)
    code = orig.args[0] if orig.args and isinstance(orig.args[0], int) else None
    lowered = message.lower()
    if type(orig).__module__.startswith("psycopg"):
        return _postgresql(message, lowered, sqlstate)
    if code is not None:
        return _mysql(message, lowered, code)
    if isinstance(orig, sqlite3.Error):
        return _sqlite(message, lowered)
    if isinstance(orig, TimeoutError):
        return SourceTimeout(message)
    if isinstance(orig, ConnectionError):
        return SourceUnreachable(message)
    return SourceError(message)


def _postgresql(message: str, lowered: str, sqlstate: str | None) -> SourceError:
    if sqlstate in _PG_TIMEOUT or "timeout expired" in lowered or "statement timeout" in lowered:
        return SourceTimeout(message)
    if (
        sqlstate in _PG_DENIED
        or "password authentication failed" in lowered
        or re.search(r'role ".*" does not exist', lowered)
        or "no pg_hba.conf entry" in lowered
        or "password is required" in lowered
        or "permission denied" in lowered
    ):
        return SourceAccessDenied(message)
    if sqlstate in _PG_NOT_FOUND or re.search(r'database ".*" does not exist', lowered):
        return SourceNotFound(message)
    if sqlstate == "25006":
        return SourceError(f"{message} ({_READ_ONLY})")
    if sqlstate is None and ("connection" in lowered or "could not translate host" in lowered):
        return SourceUnreachable(message)
    return SourceError(message)


def _mysql(message: str, lowered: str, code: int) -> SourceError:
    if code in _MY_TIMEOUT or "timed out" in lowered:
        return SourceTimeout(message)
    if code in _MY_DENIED:
        return SourceAccessDenied(message)
    if code in _MY_NOT_FOUND:
        return SourceNotFound(message)
    if code in _MY_UNREACHABLE:
        return SourceUnreachable(message)
    if code == 1792:
        return SourceError(f"{message} ({_READ_ONLY})")
    return SourceError(message)


def _sqlite(message: str, lowered: str) -> SourceError:
    if "interrupted" in lowered or "database is locked" in lowered:
        return SourceTimeout(message if "interrupted" not in lowered else f"{message} (time limit reached)")
    if "no such table" in lowered or "unable to open database" in lowered:
        return SourceNotFound(message)
    if "readonly database" in lowered:
        return SourceError(f"{message} ({_READ_ONLY})")
    return SourceError(message)


def _driver_message(orig: BaseException) -> str:
    if orig.args and isinstance(orig.args[0], int) and len(orig.args) > 1:
        text = str(orig.args[1])  # pymysql: (code, message)
    else:
        text = str(orig) or type(orig).__name__
    return " ".join(text.split())
