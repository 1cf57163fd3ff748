"""`drc`, the command line: `main` builds the parser from one module per command group
(`pipeline`, `lr`, `cnn`, `data`), each registering its own subcommands. Nothing here
imports pyspark, numba or torch at import time: a command imports what it runs."""

from jobs.cli.main import main

__all__ = ["main"]
