"""`python -m levtoken.cli`: the `levtoken` command."""

from levtoken.cli import cli

cli()
