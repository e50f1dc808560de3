"""Print the API's OpenAPI document (``python -m dais.app.openapi``), for generating the UI's types."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from dais.app.factory import create_app
from dais.core.settings import load_settings


def openapi_document() -> dict[str, object]:
    with tempfile.TemporaryDirectory() as home:
        settings = load_settings(home=Path(home))
        app = create_app(settings, check_db=False)
        return app.openapi()


if __name__ == "__main__":
    json.dump(openapi_document(), sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
