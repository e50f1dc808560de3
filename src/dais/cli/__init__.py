"""The `dais` command line (Typer + rich), one module per noun; heavy imports inside commands."""
