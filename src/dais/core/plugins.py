"""Plugin registries: one :class:`Registry` per kind, fed by Python entry points.

Built-ins are registered the same way as third-party plugins: as lazy ``"pkg.module:Object"``
strings, imported on first use. A plugin that fails to import is logged as a warning and listed
with its error (``dais plugins list``); it never crashes start-up.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any, Generic, TypeVar

from dais.core.errors import NotFound, PluginError

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass
class PluginInfo:
    """What a registry knows about one plugin, loaded or not."""

    group: str
    name: str
    target: str
    source: str  # "builtin" or "entry-point"
    loaded: bool = False
    error: str | None = None


class Registry(Generic[T]):
    """Plugins of one kind (an entry-point group), loaded lazily and defensively."""

    def __init__(self, group: str, *, builtins: dict[str, str] | None = None) -> None:
        self.group = group
        self._builtins = dict(builtins or {})
        self._targets: dict[str, PluginInfo] | None = None
        self._loaded: dict[str, T] = {}
        self._lock = threading.Lock()

    def _discover(self) -> dict[str, PluginInfo]:
        if self._targets is None:
            found = {
                name: PluginInfo(self.group, name, target, "builtin")
                for name, target in self._builtins.items()
            }
            for ep in entry_points(group=self.group):
                if ep.name in found and found[ep.name].target == ep.value:
                    continue
                found[ep.name] = PluginInfo(self.group, ep.name, ep.value, "entry-point")
            self._targets = found
        return self._targets

    def register(self, name: str, target: str | T) -> None:
        """Add a plugin by ``"pkg.mod:Object"`` string or by the object itself."""
        with self._lock:
            infos = self._discover()
            if isinstance(target, str):
                infos[name] = PluginInfo(self.group, name, target, "builtin")
                self._loaded.pop(name, None)
            else:
                infos[name] = PluginInfo(self.group, name, repr(target), "builtin", loaded=True)
                self._loaded[name] = target

    def names(self) -> list[str]:
        return sorted(self._discover())

    def get(self, name: str) -> T:
        """The plugin called ``name``; :class:`NotFound` if unknown, :class:`PluginError` if broken."""
        with self._lock:
            if name in self._loaded:
                return self._loaded[name]
            info = self._discover().get(name)
            if info is None:
                known = ", ".join(sorted(self._discover())) or "none"
                raise NotFound(f"No {self.group} plugin named {name!r} (known: {known}).")
            try:
                obj: T = _load(info.target)
            except Exception as exc:
                info.error = f"{type(exc).__name__}: {exc}"
                log.warning("plugin %s:%s failed to load: %s", self.group, name, info.error)
                raise PluginError(f"The {self.group} plugin {name!r} failed to load: {info.error}") from exc
            info.loaded, info.error = True, None
            self._loaded[name] = obj
            return obj

    def load_all(self) -> list[PluginInfo]:
        """Try to load every plugin; broken ones are reported, not raised."""
        for name in self.names():
            with contextlib.suppress(PluginError):
                self.get(name)
        return self.infos()

    def infos(self) -> list[PluginInfo]:
        return [self._discover()[n] for n in self.names()]

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __contains__(self, name: object) -> bool:
        return name in self._discover()


def _load(target: str) -> Any:
    module_name, _, attr = target.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in filter(None, attr.split(".")):
        obj = getattr(obj, part)
    return obj


_ALL: dict[str, Registry[Any]] = {}


def registry(group: str, *, builtins: dict[str, str] | None = None) -> Registry[Any]:
    """The process-wide registry for ``group`` (created on first call)."""
    reg = _ALL.get(group)
    if reg is None:
        reg = _ALL[group] = Registry(group, builtins=builtins)
    return reg


def all_registries() -> dict[str, Registry[Any]]:
    return dict(_ALL)
