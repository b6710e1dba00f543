"""BODY, items and headers from the command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from vincent_cli.args import build_body, parse_headers, parse_item, split_body_and_items
from vincent_cli.exit_codes import USAGE, CommandError


def test_no_body_and_no_items_is_an_empty_object() -> None:
    assert build_body([]) == {}


def test_body_is_json() -> None:
    assert build_body(['{"key_id": 1234}']) == {"key_id": 1234}
    assert build_body(["[1, 2]"]) == [1, 2]
    assert build_body(["3"]) == 3
    assert build_body(['"text"']) == "text"


def test_items_are_strings_or_json() -> None:
    body = build_body(["file=/gfs1/f.dat", "count:=3", 'tags:=["a","b"]', "on:=true"])
    assert body == {"file": "/gfs1/f.dat", "count": 3, "tags": ["a", "b"], "on": True}


def test_items_merge_into_the_body_and_win() -> None:
    assert build_body(['{"a": 1, "b": 2}', "b:=3", "c=x"]) == {"a": 1, "b": 3, "c": "x"}


def test_value_keeps_every_separator_after_the_first() -> None:
    assert build_body(["url=http://h/?a=b", "expr=x:=y"]) == {
        "url": "http://h/?a=b",
        "expr": "x:=y",
    }


def test_escaped_separators_belong_to_the_name() -> None:
    assert build_body([r"a\=b=1", r"c\:d:=2", r"e\\=3"]) == {"a=b": "1", "c:d": 2, "e\\": "3"}


def test_unicode_names_and_values() -> None:
    assert build_body(["clé=été", "数:=[1]"]) == {"clé": "été", "数": [1]}


def test_nested_json_item() -> None:
    assert build_body(['meta:={"a": {"b": [1, null]}}']) == {"meta": {"a": {"b": [1, None]}}}


def test_empty_string_value() -> None:
    assert build_body(["name="]) == {"name": ""}


def test_first_argument_is_an_item_when_it_has_a_separator() -> None:
    assert split_body_and_items(["a=1", "b=2"]) == (None, ["a=1", "b=2"])
    assert split_body_and_items(['{"x=": 1}', "b=2"]) == ('{"x=": 1}', ["b=2"])
    assert split_body_and_items(["-", "b=2"]) == ("-", ["b=2"])


def test_bad_json_body_says_where() -> None:
    with pytest.raises(CommandError) as caught:
        build_body(['{"key_id": }'])
    assert caught.value.code == USAGE
    assert "BODY is not valid JSON" in caught.value.message
    assert "line 1, column 12" in caught.value.message
    assert "\n" not in caught.value.message


def test_bad_json_item_names_the_item() -> None:
    with pytest.raises(CommandError, match="item 'count'"):
        build_body(["count:=three"])


def test_item_without_separator_after_the_body() -> None:
    with pytest.raises(CommandError, match="not an item"):
        build_body(["{}", "loose"])


def test_item_without_name() -> None:
    with pytest.raises(CommandError, match="no name"):
        parse_item(":=1")


def test_items_need_an_object_body() -> None:
    with pytest.raises(CommandError, match="JSON object"):
        build_body(["[1]", "a=1"])


def test_stdin_body() -> None:
    assert build_body(["-", "b=2"], read_stdin=lambda: b'{"a": 1}') == {"a": 1, "b": "2"}


def test_empty_stdin_is_an_error() -> None:
    with pytest.raises(CommandError, match="stdin is empty"):
        build_body(["-"], read_stdin=lambda: b"")


def test_file_body(tmp_path: Path) -> None:
    (tmp_path / "body.json").write_text('{"a": [1, 2]}')
    assert build_body(["@body.json"], cwd=tmp_path) == {"a": [1, 2]}


def test_bad_json_in_a_file_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "body.json").write_text('{"a": \n oops}')
    with pytest.raises(CommandError, match=r"@body.json is not valid JSON: .* line 2"):
        build_body(["@body.json"], cwd=tmp_path)


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match=r"cannot read @missing\.json"):
        build_body(["@missing.json"], cwd=tmp_path)


def test_binary_body_is_sent_as_is(tmp_path: Path) -> None:
    (tmp_path / "blob").write_bytes(b"\x00\xff")
    assert build_body(["@blob"], binary=True, cwd=tmp_path) == b"\x00\xff"
    with pytest.raises(CommandError, match="--binary"):
        build_body(['{"a": 1}'], binary=True)
    with pytest.raises(CommandError, match="items"):
        build_body(["@blob", "a=1"], binary=True, cwd=tmp_path)


def test_headers() -> None:
    assert parse_headers(["x-origin: ops", "x-url:http://h:80/"]) == {
        "x-origin": "ops",
        "x-url": "http://h:80/",
    }
    with pytest.raises(CommandError, match="name:value"):
        parse_headers(["novalue"])
