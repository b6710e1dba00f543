"""``filter EXPR``: parsing and matching."""

from __future__ import annotations

import pytest

from tests.console.helpers import call, cast, session_with
from vincent_cli.console.filtering import Filter, check_pattern
from vincent_cli.console.parser import UsageError


@pytest.fixture
def entries():
    _, entries = session_with(
        cast("file.put", {"name": "Disk Full", "size": 3, "user": {"id": 42}}),
        call("file.get", {"name": "a"}),
        cast("audit.login.ok", {"user": "bob"}),
    )
    entries[0].outcome = "no route"
    return entries


def numbers(expression: str, entries) -> list[int]:
    selected = Filter.parse(expression)
    return [e.number for e in entries if selected.matches(e)]


def test_the_empty_filter_lets_everything_through(entries) -> None:
    assert not Filter()
    assert numbers("", entries) == [1, 2, 3]
    assert Filter().describe() == "off"


def test_key_patterns_are_alternatives(entries) -> None:
    assert numbers("file.*", entries) == [1, 2]
    assert numbers("file.get audit.#", entries) == [2, 3]
    assert numbers("!file.*", entries) == [3]


def test_text_fields_and_kinds(entries) -> None:
    assert numbers("~disk", entries) == [1]
    assert numbers("size=3", entries) == [1]
    assert numbers("user.id=42", entries) == [1]
    assert numbers("user=bob", entries) == [3]
    assert numbers("name=a is:call", entries) == [2]
    assert numbers("is:cast", entries) == [1, 3]
    assert numbers("is:error", entries) == [1]
    assert numbers("file.* is:seen size=4", entries) == []


def test_words_already_split_keep_their_spaces(entries) -> None:
    assert [e.number for e in entries if Filter.parse(["~disk full"]).matches(e)] == [1]


def test_describe_and_errors() -> None:
    assert Filter.parse("file.* is:call n=1").describe() == "key ~ file.* · n = 1 · is:call"
    with pytest.raises(UsageError, match="is:nothing"):
        Filter.parse("is:nothing")


def test_a_wildcard_inside_a_word_is_refused_with_a_hint() -> None:
    # AMQP would take it as a plain key that matches nothing but itself.
    with pytest.raises(UsageError, match=r"filter: 'file\.enc\*': .* \(try file\.\* or file\.#\)"):
        Filter.parse("file.enc*")
    with pytest.raises(UsageError, match=r"\(try \* or #\)"):
        check_pattern("audit#")
    assert check_pattern("a.*.b.#") == "a.*.b.#"
