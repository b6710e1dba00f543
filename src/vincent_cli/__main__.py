"""``python -m vincent_cli`` is ``vincent``."""

from vincent_cli.main import run

run()
