"""``python -m vincent_cli.completions [DIR]``: write every script into DIR."""

import sys

from vincent_cli.completions import main

sys.exit(main(sys.argv[1:]))
