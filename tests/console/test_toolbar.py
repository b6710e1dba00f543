"""The prompt and the toolbar (pure): short, and the toolbar fits narrow terminals."""

from __future__ import annotations

from prompt_toolkit.formatted_text import fragment_list_to_text

from vincent_cli.console.session import Session
from vincent_cli.console.suggest import did_you_mean, nearest_key
from vincent_cli.console.toolbar import prompt_message, short_broker, toolbar_text

URL = "amqp://guest:***@rabbit-01.eu-west.internal.example.com:5672/prod"


def prompt(exchange: str) -> str:
    return fragment_list_to_text(prompt_message(Session(exchange=exchange, masked_url=URL)))


def test_the_prompt_is_short_and_names_only_another_exchange() -> None:
    assert prompt("vincent") == "vincent › "
    assert prompt("billing") == "vincent:billing › "
    assert prompt("") == 'vincent:"" › '
    assert prompt("a-very-long-exchange-name") == "vincent:a-very-long-exc… › "
    assert "rabbit" not in prompt("billing")


def test_the_toolbar_has_the_broker_and_shortens_it_to_fit() -> None:
    session = Session(exchange="billing", masked_url=URL, state="connected", taps=["file.#"])
    whole = toolbar_text(session)
    assert f"│ {URL} · billing │ taps: file.# │ seen 0 · sent 0" in whole
    for width in (72, 80, 100, 120):
        text = toolbar_text(session, width)
        assert len(text) < width, (width, text)
        assert "taps: file.# │ seen 0 · sent 0" in text
    assert "│ rabbit-01.eu-west.internal.example.com:5672 · billing │" in toolbar_text(session, 110)
    assert "example.com" not in toolbar_text(session, 72)
    assert short_broker("amqps://u:***@h:5671/v") == "h:5671"
    assert short_broker("memory://") == "memory://"


def test_did_you_mean() -> None:
    assert did_you_mean("hsitory", ["history", "help"]) == "; did you mean history?"
    assert did_you_mean("zzz", ["history", "help"]) == ""
    assert nearest_key("file.gte", ["file.get", "file.#", "file.encrypt"]) == "file.get"
    assert nearest_key("file.get", ["file.get"]) is None, "never the key itself"
