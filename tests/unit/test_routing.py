from __future__ import annotations

import itertools
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vincent_core.errors import ConfigurationError
from vincent_core.wire.routing import check_key, queue_name, retry_queue_name, topic_matches


@pytest.mark.parametrize(
    ("pattern", "key", "expected"),
    [
        ("file.*", "file.get", True),
        ("file.*", "file.get.now", False),
        ("file.*", "file", False),
        ("file.#", "file", True),
        ("file.#", "file.a.b", True),
        ("#", "anything.at.all", True),
        ("#.end", "end", True),
        ("#.end", "a.b.end", True),
        ("a.#.z", "a.z", True),
        ("a.#.z", "a.b.c.z", True),
        ("a.#.z", "a.b.c", False),
        ("*.b", "a.b", True),
        ("*.b", "b", False),
        ("exact.key", "exact.key", True),
        ("exact.key", "exact.keys", False),
    ],
)
def test_topic_matching(pattern: str, key: str, expected: bool) -> None:
    assert topic_matches(pattern, key) is expected


def _reference(pattern: str, key: str) -> bool:
    # A regex translation kept deliberately naive, to cross-check the word matcher.
    words = pattern.split(".")
    regex = ""
    for index, word in enumerate(words):
        piece = {"*": r"[^.]*", "#": r".*"}.get(word, re.escape(word))
        if index == 0:
            regex = piece if word != "#" else r"(?:.*)"
        elif word == "#":
            regex += r"(?:\..*)?"
        else:
            regex += (r"\.?" if words[index - 1] == "#" and index - 1 == 0 else r"\.") + piece
    if words[0] == "#" and len(words) > 1:
        regex = r"(?:.*\.)?" + regex[len(r"(?:.*)") :].removeprefix(r"\.?")
    return re.fullmatch(regex, key) is not None


word = st.sampled_from(["a", "b", "c"])


@given(
    st.lists(st.sampled_from(["a", "b", "*", "#"]), min_size=1, max_size=4),
    st.lists(word, min_size=1, max_size=5),
)
def test_topic_matching_agrees_with_a_regex(pattern: list[str], key: list[str]) -> None:
    # Consecutive '#' words are equivalent to one; the naive regex does not know that.
    if any(x == y == "#" for x, y in itertools.pairwise(pattern)):
        return
    assert topic_matches(".".join(pattern), ".".join(key)) == _reference(
        ".".join(pattern), ".".join(key)
    )


def test_queue_names_per_route_to() -> None:
    assert queue_name("file.get") == "file.get"
    assert queue_name("file.get", queue="files") == "files"
    assert queue_name("file.get", "host", hostname="web1") == "file.get.web1"
    broadcast = queue_name("file.get", "all", hostname="web1")
    assert broadcast.startswith("file.get.all.web1.")
    assert broadcast != queue_name("file.get", "all", hostname="web1")
    assert queue_name("audit.#") == "audit.#"
    assert retry_queue_name("files") == "files.retry"


def test_bad_names_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="reserved"):
        queue_name("amq.thing")
    with pytest.raises(ConfigurationError, match="route_to"):
        queue_name("k", "everyone")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="pattern"):
        check_key("file.*")
    with pytest.raises(ConfigurationError, match="1-255"):
        check_key("")
    assert check_key("file.*", pattern=True) == "file.*"
