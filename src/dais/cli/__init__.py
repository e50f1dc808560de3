"""The ``dais`` command line: Typer, one module per noun, heavy imports only inside commands."""
