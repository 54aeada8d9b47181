"""The command line (Typer + Rich)."""

from zhongcao.cli.main import app, main

__all__ = ["app", "main"]
