"""One module per ``vincent`` command; each keeps its heavy imports inside the command."""
