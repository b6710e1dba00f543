"""``python -m vincent_cli`` is ``vincent``."""

from vincent_cli.entry import run

run()
