from __future__ import annotations

import pytest

from vincent_core.errors import ConfigurationError
from vincent_core.wire.deadlines import (
    DEADLINE_HEADER,
    deadline_from_headers,
    expiration_ms,
    is_expired,
    remaining_seconds,
)


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [(5, "5000"), (0.0011, "2"), (0.001, "1"), (1.5, "1500"), (0, "0"), (0.1, "100")],
)
def test_expiration_is_whole_milliseconds_rounded_up(seconds: float, expected: str) -> None:
    assert expiration_ms(seconds) == expected


def test_negative_ttl_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="positive"):
        expiration_ms(-1)


def test_deadline_header_reading() -> None:
    assert deadline_from_headers({DEADLINE_HEADER: 1000}) == 1000
    assert deadline_from_headers({DEADLINE_HEADER: "soon"}) is None
    assert deadline_from_headers({DEADLINE_HEADER: True}) is None
    assert deadline_from_headers(None) is None


def test_expiry_against_now() -> None:
    headers = {DEADLINE_HEADER: 10_000}
    assert not is_expired(headers, now=9_999)
    assert is_expired(headers, now=10_000)
    assert not is_expired({}, now=10**15)


def test_remaining_never_negative() -> None:
    assert remaining_seconds(10_000, now=9_000) == 1.0
    assert remaining_seconds(10_000, now=11_000) == 0.0
    assert remaining_seconds(None) is None
