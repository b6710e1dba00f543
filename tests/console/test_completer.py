"""Tab completion: what is offered where."""

from __future__ import annotations

from pathlib import Path

from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document

from tests.console.helpers import call, cast, session_with
from vincent_cli.console.completer import ConsoleCompleter, suggest


def offered(session, text: str) -> list[str]:
    return [c.text for c in suggest(session, text).candidates]


def completions(session, text: str) -> list[str]:
    completer = ConsoleCompleter(session)
    return [c.text for c in completer.get_completions(Document(text), CompleteEvent())]


def test_commands_first() -> None:
    session, _ = session_with()
    assert completions(session, "ca") == ["cast", "call"]
    assert "history" in offered(session, "")
    assert completions(session, "qu") == ["queues", "quit"]


def test_options_of_the_command() -> None:
    session, _ = session_with()
    assert completions(session, "call k --t") == ["--timeout", "--ttl"]
    assert completions(session, "cast k -") == ["--ttl", "--header", "-H"]


def test_routing_keys_from_traffic_and_the_app() -> None:
    session, _ = session_with(cast("file.put", {"name": "x", "size": 1}), cast("audit.a"))
    session.app_keys = ["file.get", "audit.#"]
    assert completions(session, "cast f") == ["file.put", "file.get"]
    assert completions(session, "call --timeout 3 a") == ["audit.a"]
    # after the key: the body fields seen for that key, not those already typed
    assert completions(session, "cast file.put name=a ") == ["size="]
    assert completions(session, "replay 1 ") == ["name=", "size="]


def test_patterns_for_tail_and_taps_for_untail() -> None:
    session, _ = session_with(cast("file.put"))
    session.taps = ["file.*"]
    assert completions(session, "tail fi") == ["file.put", "file.#"]
    assert completions(session, "tail ") == ["file.put", "file.#", "#"]
    assert completions(session, "untail ") == ["file.*"]
    assert "is:call" in completions(session, "filter ")


def test_history_numbers_newest_first_with_a_hint() -> None:
    session, _ = session_with(cast("a.b"), call("c.d"))
    found = suggest(session, "show ")
    assert [(c.text, c.meta) for c in found.candidates] == [("2", "call c.d"), ("1", "cast a.b")]
    assert completions(session, "edit ") == ["2", "1"]
    assert completions(session, "save out.jsonl ") == ["1-2"]


def test_file_paths_for_save_and_load(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "records.jsonl").write_text("")
    monkeypatch.chdir(tmp_path)
    session, _ = session_with()
    assert completions(session, "load rec") == ["ords.jsonl"]
    assert completions(session, "save rec") == ["ords.jsonl"]


def test_nothing_inside_json_or_after_unknown_commands() -> None:
    session, _ = session_with(cast("a.b"))
    assert completions(session, 'cast a.b {"na') == []
    assert completions(session, "frob a") == []


def test_quoted_words_are_replaced_whole() -> None:
    session, _ = session_with(cast("a.b"))
    completer = ConsoleCompleter(session)
    [completion] = completer.get_completions(Document("cast 'a."), CompleteEvent())
    assert (completion.text, completion.start_position) == ("a.b", -3)


def test_field_names_of_the_apps_typed_handlers() -> None:
    from tests.cli.apps.features import app
    from vincent_cli.console.schemas import app_fields

    session, _ = session_with(cast("jobs.submit", {"id": 1, "extra": True}))
    session.app_fields = app_fields(app)
    assert "audit.#" not in session.app_fields  # a pattern: never typed after call
    assert "legacy.echo" not in session.app_fields  # untyped: nothing declared
    assert offered(session, "call jobs.submit ") == [
        "id=", "owner=", "priority=", "tags=", "due=", "extra=",
    ]  # fmt: skip
    assert completions(session, "call jobs.submit id:=1 o") == ["owner="]
    assert completions(session, "cast jobs.owner pr") == ["priority="]
