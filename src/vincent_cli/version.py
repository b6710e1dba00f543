"""The installed version, read without importing vincent_core (``vincent --version``
must not cost more than ``vincent --help``)."""

from __future__ import annotations

__all__ = ["version"]


def version() -> str:
    """vincent's version, from ``vincent_core/_version.py`` (the one hatch reads too)."""
    import importlib.util
    import os

    spec = importlib.util.find_spec("vincent_core")
    if spec is None or spec.origin is None:  # pragma: no cover - a broken install
        return "unknown"
    path = os.path.join(os.path.dirname(spec.origin), "_version.py")
    try:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("__version__"):
                    return line.split("=", 1)[1].strip().strip("\"'")
    except OSError:  # pragma: no cover - a broken install
        pass
    return "unknown"
