"""Structured logging: JSON lines carrying the request id of whatever request is being served."""

from __future__ import annotations

import contextvars
import json
import logging
import logging.handlers
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("dais_request_id", default=None)

_RESERVED = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


class RequestIdFilter(logging.Filter):
    """Stamps every record with the current request id (or ``-``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line; extra fields given with ``extra=`` are kept."""

    def format(self, record: logging.LogRecord) -> str:
        body: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        for key, value in record.__dict__.items():
            if key not in _RESERVED and key not in body and not key.startswith("_"):
                body[key] = value if isinstance(value, str | int | float | bool | None) else str(value)
        if record.exc_info:
            body["exc"] = self.formatException(record.exc_info)
        return json.dumps(body, ensure_ascii=False)


_TEXT = "%(asctime)s %(levelname)-7s %(name)s [%(request_id)s] %(message)s"


def configure_logging(*, level: str = "INFO", fmt: str = "json", log_dir: Path | None = None) -> None:
    """Route ``dais`` and ``uvicorn`` logs to stderr (and a rotating file under ``log_dir``)."""
    formatter: logging.Formatter = JsonFormatter() if fmt == "json" else logging.Formatter(_TEXT)
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True)
        handlers.append(
            logging.handlers.RotatingFileHandler(log_dir / "dais.log", maxBytes=20_000_000, backupCount=5)
        )
    root = logging.getLogger()
    for h in list(root.handlers):
        if getattr(h, "_dais", False):
            root.removeHandler(h)
    for h in handlers:
        h.setFormatter(formatter)
        h.addFilter(RequestIdFilter())
        h._dais = True  # type: ignore[attr-defined]
        root.addHandler(h)
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        lg = logging.getLogger(name)
        lg.handlers.clear()
        lg.propagate = True
    # Access lines are written by our own middleware, with the request id and route template.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
