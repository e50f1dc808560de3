"""``dais plugins``: the plugins this installation has, loaded or broken."""

from __future__ import annotations

from operator import itemgetter

import typer

from dais.cli.output import Column, Format, OutputOpt, print_list

plugins_app = typer.Typer(help="Show the plugins installed here.")

# Every registry the platform defines, by the module that declares it (imported to create it).
REGISTRY_MODULES = ("dais.storage.registry:artifact_stores", "dais.tenancy.identity:identity_providers")


def _load_registries() -> None:
    """Create every registry: the platform's own, and one per ``dais.*`` entry-point group."""
    import importlib
    from importlib.metadata import entry_points

    from dais.core.plugins import registry

    for target in REGISTRY_MODULES:
        module, _, func = target.partition(":")
        getattr(importlib.import_module(module), func)()
    for group in entry_points().groups:
        if group.startswith("dais."):
            registry(group)


@plugins_app.command("list")
def list_plugins(output: OutputOpt = Format.table) -> None:
    """Every plugin of every kind, tried one by one: a broken plugin is listed with its error."""
    from dais.core.plugins import all_registries

    _load_registries()
    infos = [info for reg in all_registries().values() for info in reg.load_all()]
    infos.sort(key=lambda i: (i.group, i.name))
    rows = [
        {
            "group": i.group,
            "name": i.name,
            "target": i.target,
            "source": i.source,
            "status": "loaded" if i.loaded else "broken",
            "error": i.error,
        }
        for i in infos
    ]
    columns: list[Column] = [
        (h.upper(), itemgetter(h)) for h in ("group", "name", "status", "source", "target", "error")
    ]
    print_list(rows, columns, output)


def register(app: typer.Typer) -> None:
    app.add_typer(plugins_app, name="plugins")
