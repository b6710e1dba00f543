from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vincent_core.errors import EncodeError
from vincent_core.wire.codec import BINARY, JSON, UndecodableBody, decode_body, encode_body

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(),
    lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
    max_leaves=20,
)


@given(json_values)
def test_json_round_trip(value: object) -> None:
    body, content_type = encode_body(value)
    assert content_type == JSON
    assert decode_body(body, content_type) == value


@pytest.mark.parametrize("raw", [b"", b"\x00\xff", bytearray(b"ab"), memoryview(b"cd")])
def test_bytes_pass_through(raw: bytes | bytearray | memoryview) -> None:
    body, content_type = encode_body(raw)
    assert content_type == BINARY
    assert body == bytes(raw)
    assert decode_body(body, BINARY) == bytes(raw)


def test_unencodable_body_is_a_vincent_error() -> None:
    with pytest.raises(EncodeError, match="cannot encode"):
        encode_body({"x": object()})


def test_json_with_charset_parameter_is_json() -> None:
    assert decode_body(b'{"a": 1}', "application/json; charset=utf-8") == {"a": 1}


def test_claimed_json_that_does_not_parse_is_undecodable() -> None:
    with pytest.raises(UndecodableBody, match="does not parse"):
        decode_body(b"{nope", "application/json")


def test_no_content_type_decodes_json_else_bytes() -> None:
    assert decode_body(b'{"file": "x"}', None) == {"file": "x"}
    assert decode_body(b"plain words", None) == b"plain words"
    assert decode_body(b"plain words", "") == b"plain words"


def test_other_content_types_stay_bytes() -> None:
    assert decode_body(b'{"a": 1}', "text/plain") == b'{"a": 1}'


@given(st.binary(), st.one_of(st.none(), st.text(max_size=40)))
def test_decoder_never_raises_anything_but_undecodable(
    body: bytes, content_type: str | None
) -> None:
    with contextlib.suppress(UndecodableBody):
        decode_body(body, content_type)
