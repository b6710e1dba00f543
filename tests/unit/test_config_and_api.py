from __future__ import annotations

import vincent_core
from vincent_core.config import (
    DEFAULT_EXCHANGE,
    DEFAULT_URL,
    mask_url,
    resolve_exchange,
    resolve_url,
)
from vincent_core.errors import CallTimeout, Rejected, RemoteError, VincentError


def test_url_resolution_order() -> None:
    env = {"VINCENT_BROKER_URL": "amqp://a/", "AMQP_URL": "amqp://b/"}
    assert resolve_url("amqp://arg/", env) == "amqp://arg/"
    assert resolve_url(None, env) == "amqp://a/"
    assert resolve_url(None, {"AMQP_URL": "amqp://b/"}) == "amqp://b/"
    assert resolve_url(None, {}) == DEFAULT_URL


def test_exchange_resolution() -> None:
    assert resolve_exchange(None, {}) == DEFAULT_EXCHANGE
    assert resolve_exchange(None, {"VINCENT_EXCHANGE": "other"}) == "other"
    assert resolve_exchange("given", {"VINCENT_EXCHANGE": "other"}) == "given"


def test_password_masking() -> None:
    assert mask_url("amqp://user:s3cret@host:5672/vh") == "amqp://user:***@host:5672/vh"
    assert mask_url("amqp://host/") == "amqp://host/"
    assert mask_url("amqp://u:p1@a/,amqps://v:p2@b/") == "amqp://u:***@a/,amqps://v:***@b/"


def test_public_api_is_sorted_and_complete() -> None:
    names = vincent_core.__all__
    assert names == sorted(names)
    for name in names:
        assert hasattr(vincent_core, name), name
    for name in (
        "Vincent",
        "Service",
        "Message",
        "Client",
        "SyncClient",
        "VincentError",
        "RemoteError",
        "CallTimeout",
        "NoRoute",
        "Rejected",
        "ConnectionLost",
    ):
        assert name in names


def test_error_tree() -> None:
    assert issubclass(CallTimeout, TimeoutError)
    assert issubclass(CallTimeout, VincentError)
    assert issubclass(Rejected, VincentError)
    assert not issubclass(Rejected, RemoteError)


def test_the_copy_timeout_is_the_apps_and_must_be_positive() -> None:
    import pytest

    from vincent_core import Vincent
    from vincent_core.errors import ConfigurationError

    assert Vincent("memory://").copy_timeout == 30.0
    assert Vincent("memory://", copy_timeout=2.5).copy_timeout == 2.5
    with pytest.raises(ConfigurationError, match="copy_timeout must be positive"):
        Vincent("memory://", copy_timeout=0)
