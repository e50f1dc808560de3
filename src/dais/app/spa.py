"""Serves the built web UI (``web/dist``) at ``/`` with history-API fallback to ``index.html``."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from dais.core.errors import NotFound

_NOT_BUILT = """<!doctype html><html><head><title>Dais</title></head><body style="font-family:sans-serif">
<h1>Dais</h1><p>The API is running, but the web UI has not been built.</p>
<p>Run <code>make web</code> (or <code>make run</code>) in the Dais checkout, then reload.</p>
<p>The API is at <a href="/api/v1/docs">/api/v1/docs</a>.</p></body></html>"""

SPA_ROUTE_NAME = "web_ui"

_RESERVED = ("api/", "ajax-api/", "v2/", "healthz", "readyz", "metrics", "login/link/")


def find_web_dist() -> Path | None:
    """The built UI: packaged with a wheel (``dais/app/static``) or beside a source checkout."""
    here = Path(__file__).resolve()
    for candidate in (here.parent / "static", here.parents[3] / "web" / "dist"):
        if (candidate / "index.html").is_file():
            return candidate
    return None


def install_spa(app: FastAPI, dist: Path | None) -> None:
    root = dist.resolve() if dist else None

    @app.get("/{path:path}", include_in_schema=False, name=SPA_ROUTE_NAME)
    def spa(path: str, request: Request) -> Response:
        if path.startswith(_RESERVED):
            raise NotFound(f"No such resource: {request.method} /{path}")
        if root is None:
            return HTMLResponse(_NOT_BUILT)
        if path:
            candidate = (root / path).resolve()
            if candidate.is_relative_to(root) and candidate.is_file():
                headers = (
                    {"Cache-Control": "public, max-age=31536000, immutable"}
                    if path.startswith("assets/")
                    else None
                )
                return FileResponse(candidate, headers=headers)
        return FileResponse(root / "index.html", headers={"Cache-Control": "no-cache"})
