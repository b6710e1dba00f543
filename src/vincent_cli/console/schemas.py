"""What the console knows from the ``--app`` (or ``vincent dev``) handlers' types: the body
fields to complete after ``call KEY `` / ``cast KEY ``."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vincent_core.app import Vincent

__all__ = ["app_fields"]

log = logging.getLogger("vincent.console")


def app_fields(app: Vincent | None) -> dict[str, list[str]]:
    """The top-level body fields of every typed listener of ``app``, by key (wildcard
    keys left out: nobody types them after ``call``)."""
    if app is None:
        return {}
    fields: dict[str, list[str]] = {}
    for listener in app.listeners:
        key = listener.key
        if "*" in key.split(".") or "#" in key.split("."):
            continue
        try:
            names = listener.schema.fields()
        except Exception:  # a schema pydantic cannot draw: no completion, no crash
            log.debug("no schema for %s", key, exc_info=True)
            continue
        if names:
            fields[key] = list(dict.fromkeys([*fields.get(key, []), *names]))
    return fields
