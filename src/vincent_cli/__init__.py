"""The ``vincent`` command and the developer console."""
