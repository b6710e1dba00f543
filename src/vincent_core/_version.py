"""The one place the version lives (read by hatch and by ``vincent --version``)."""

__version__ = "0.2.0.dev0"
