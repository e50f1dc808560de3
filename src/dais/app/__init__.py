"""The API server: app factory, error handlers, middleware, the web UI's static files, probes."""

from dais.app.factory import OPENAPI_URL, create_app

__all__ = ["OPENAPI_URL", "create_app"]
