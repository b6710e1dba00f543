"""The header encoder: whatever pamqp decodes goes back out as the same value."""

from __future__ import annotations

import datetime as dt
import decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pamqp import decode, encode

from tests.integration.foreign import not_utf8
from vincent_core.wire.fieldtable import encode_table


def roundtrip(table: dict[str, object]) -> dict[str, object]:
    return dict(decode.field_table(encode_table(table))[1])


keys = st.text(min_size=1, max_size=20)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False),
    st.text(max_size=30),
    st.binary(max_size=30).filter(lambda b: not_utf8(b)),
    st.binary(max_size=30).map(bytearray),
    st.datetimes(min_value=dt.datetime(1970, 1, 2), max_value=dt.datetime(2100, 1, 1)).map(
        lambda d: d.replace(microsecond=0, tzinfo=dt.UTC)
    ),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=12,
)


@given(st.dictionaries(keys, values, max_size=6))
def test_decoded_values_survive_a_roundtrip(table: dict[str, object]) -> None:
    assert roundtrip(table) == table
    again = roundtrip(roundtrip(table))
    assert again == table
    assert encode_table(roundtrip(table)) == encode_table(table)


def test_types_are_kept() -> None:
    back = roundtrip({"d": 0.1, "big": 1e300, "raw": b"\xff", "x": bytearray(b"\x00")})
    assert back == {"d": 0.1, "big": 1e300, "raw": b"\xff", "x": bytearray(b"\x00")}
    assert type(back["raw"]) is bytes and type(back["x"]) is bytearray


@pytest.mark.parametrize(
    "table",
    [
        {"i": 5, "s": "é", "t": True, "n": None, "l": [1, "a"], "f": {"a": {"b": 2**40}}},
        {"u": 65535, "ui": 4294967295, "neg": -(2**40), "dec": decimal.Decimal("1.25")},
        {"when": dt.datetime(2024, 1, 1, 12, tzinfo=dt.UTC)},
        {},
    ],
)
def test_same_bytes_as_pamqp_for_what_pamqp_encodes_faithfully(table: dict[str, object]) -> None:
    assert encode_table(table) == encode.field_table(table)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "table", [{"t": (1, 2)}, {"o": object()}, {"huge": 2**64}, {"k" * 256: 1}, {1: 2}]
)
def test_what_amqp_cannot_carry_is_refused(table: dict[object, object]) -> None:
    with pytest.raises((TypeError, ValueError)):
        encode_table(table)  # type: ignore[arg-type]
