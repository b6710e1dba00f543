""" "Did you mean": the nearest of some known words to a mistyped one (pure).

::

    >>> did_you_mean("hsitory", ["history", "help"])
    '; did you mean history?'
    >>> nearest_key("file.gte", ["file.get", "file.encrypt", "audit.#"])
    'file.get'
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["did_you_mean", "nearest", "nearest_key"]

#: how alike two words must be (difflib's ratio) for one to be suggested for the other
_CUTOFF = 0.6


def nearest(word: str, known: Iterable[str]) -> str | None:
    """The known word most like ``word``, if one is alike enough (never ``word`` itself)."""
    candidates = [k for k in dict.fromkeys(known) if k != word]
    found = difflib.get_close_matches(word, candidates, n=1, cutoff=_CUTOFF)
    return found[0] if found else None


def nearest_key(key: str, keys: Iterable[str]) -> str | None:
    """The plain routing key (no wildcard) most like ``key``."""
    return nearest(key, (k for k in keys if "*" not in k and "#" not in k))


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """``"; did you mean X?"`` for the nearest known word, else ``""``."""
    found = nearest(word, known)
    return f"; did you mean {found}?" if found else ""
