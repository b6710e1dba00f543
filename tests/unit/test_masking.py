"""mask_url and mask_text: every shape a URL takes, parsed as RabbitMQ clients parse it."""

from __future__ import annotations

import pytest

from vincent_core.config import mask_text, mask_url


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("amqp://guest:guest@localhost:5672/", "amqp://guest:***@localhost:5672/"),
        ("u:pw@host:5672", "u:***@host:5672"),
        ("amqp://u:p@ss@host:5672/v", "amqp://u:***@host:5672/v"),
        ("amqp://u:pa:ss@host/", "amqp://u:***@host/"),
        ("amqp://u:a@h1:1/,amqp://v:b@h2:2/", "amqp://u:***@h1:1/,amqp://v:***@h2:2/"),
        ("amqp://u:a@h1, amqps://v:b@h2", "amqp://u:***@h1, amqps://v:***@h2"),
        ("amqp://u:p,w@h1", "amqp://u:***@h1"),
        ("http://admin:secret@localhost:15672", "http://admin:***@localhost:15672"),
        ("amqp://u:pw@[::1]:5672/", "amqp://u:***@[::1]:5672/"),
        ("amqp://[::1]:5672/", "amqp://[::1]:5672/"),
        (
            "amqps://u:pw@h/v?cafile=/ca.pem&password=zz",
            "amqps://u:***@h/v?cafile=/ca.pem&password=***",
        ),
        ("amqp://u:p%40ss@host/", "amqp://u:***@host/"),
        ("amqp://u:pa/ss@host/v", "amqp://u:***@host/v"),
        ("amqp://u:secret", "amqp://u:***"),
        ("amqp://host:5672/v?x=a@b", "amqp://host:5672/v?x=a@b"),
        ("amqp://user@host/", "amqp://user@host/"),
        ("memory://", "memory://"),
        ("localhost", "localhost"),
        ("", ""),
    ],
)
def test_mask_url(url: str, shown: str) -> None:
    assert mask_url(url) == shown


def test_mask_text_masks_every_url_in_free_text() -> None:
    text = "cannot reach 'amqp://u:s1@h:1/' nor u:s2@h:2 (\"http://a:s3@c\")\nTraceback"
    masked = mask_text(text)
    assert not any(secret in masked for secret in ("s1", "s2", "s3"))
    assert masked.endswith("\nTraceback")
    assert mask_text("no url here: key.name, 12:30") == "no url here: key.name, 12:30"
