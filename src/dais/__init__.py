"""Dais: an end-to-end machine-learning platform.

``dais.Client`` is the Python SDK; everything else is the server.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from dais.client import Client

__all__ = ["Client", "__version__"]


def __getattr__(name: str) -> Any:
    # Lazy, so `import dais` (and `dais --help`) stays fast.
    if name == "Client":
        from dais.client import Client

        return Client
    raise AttributeError(name)
