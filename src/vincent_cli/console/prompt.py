"""The prompt_toolkit side: the prompt session, its keys, colours and history file.

::

    prompt = make_prompt(session, history_path=default_history_path())
    line = await prompt.prompt_async()
"""

from __future__ import annotations

from pathlib import Path

from prompt_toolkit import PromptSession
from prompt_toolkit.auto_suggest import AutoSuggestFromHistory
from prompt_toolkit.document import Document
from prompt_toolkit.filters import Condition
from prompt_toolkit.formatted_text import StyleAndTextTuples
from prompt_toolkit.history import FileHistory, History, InMemoryHistory
from prompt_toolkit.input import Input
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
from prompt_toolkit.output import Output
from prompt_toolkit.styles import Style

from vincent_cli.console.completer import ConsoleCompleter
from vincent_cli.console.lexer import ConsoleLexer
from vincent_cli.console.parser import needs_more
from vincent_cli.console.session import Session
from vincent_cli.console.toolbar import bottom_toolbar, prompt_message

__all__ = ["STYLE", "ask_multiline", "default_history_path", "make_prompt", "open_history"]

STYLE = Style.from_dict(
    {
        "prompt.name": "bold",
        "prompt.broker": "ansicyan",
        "prompt.separator": "ansibrightblack",
        "prompt.exchange": "ansimagenta",
        "prompt.arrow": "bold",
        "command": "bold ansicyan",
        "command.unknown": "ansired",
        "option": "ansiyellow",
        "item.name": "ansiblue",
        "item.operator": "ansibrightblack",
        "item.value": "ansigreen",
        "json.key": "ansiblue",
        "json.string": "ansigreen",
        "json.number": "ansiyellow",
        "json.keyword": "ansimagenta",
        "json.punct": "ansibrightblack",
        "bottom-toolbar": "noreverse bg:#262626 #bcbcbc",
        "state.connected": "ansigreen bold",
        "state.connecting": "ansiyellow",
        "state.reconnecting": "bg:ansired ansiwhite bold",
        "state.closed": "ansired",
        "toolbar.separator": "#585858",
        "toolbar.label": "#8a8a8a",
        "toolbar.taps": "ansicyan",
        "toolbar.count": "bold",
        "toolbar.filter": "ansiyellow",
        "toolbar.broker": "ansicyan",
        "toolbar.error": "bg:ansired ansiwhite bold",
    }
)


def default_history_path() -> Path:
    """Where typed lines are kept between sessions: the user's state directory."""
    from platformdirs import user_state_path

    return user_state_path("vincent") / "console_history"


def open_history(path: Path | None) -> History:
    """The typed-line history at ``path``: it holds whatever was typed, bodies included,
    so on every start the file is made 0600 and its directory 0700 (also when they
    already exist, looser). Memory only if that cannot be done."""
    if path is None:
        return InMemoryHistory()
    try:
        from vincent_cli.private import make_private

        make_private(path)
    except OSError:
        return InMemoryHistory()
    return FileHistory(str(path))


def _key_bindings() -> KeyBindings:
    bindings = KeyBindings()

    @Condition
    def unfinished() -> bool:
        from prompt_toolkit.application import get_app

        return needs_more(get_app().current_buffer.text)

    @bindings.add("enter", filter=unfinished)
    def _(event: KeyPressEvent) -> None:
        # An open bracket or quote: the JSON goes on, on the next line.
        event.current_buffer.newline(copy_margin=False)
        event.current_buffer.insert_text("  ")

    return bindings


def _terminal_width() -> int | None:
    from prompt_toolkit.application import get_app

    try:
        return get_app().output.get_size().columns
    except Exception:  # no application or no size: the toolbar is drawn whole
        return None


def _continuation(width: int, line_number: int, wrap_count: int) -> StyleAndTextTuples:
    return [("class:prompt.separator", "… ".rjust(width))]


def make_prompt(
    session: Session,
    *,
    history_path: Path | None,
    input: Input | None = None,
    output: Output | None = None,
) -> PromptSession[str]:
    """The main prompt: highlighted, completed, with the toolbar and the history file."""
    return PromptSession(
        message=lambda: prompt_message(session),
        bottom_toolbar=lambda: bottom_toolbar(session, _terminal_width()),
        lexer=ConsoleLexer(),
        completer=ConsoleCompleter(session),
        complete_while_typing=True,
        auto_suggest=AutoSuggestFromHistory(),
        history=open_history(history_path),
        key_bindings=_key_bindings(),
        prompt_continuation=_continuation,
        style=STYLE,
        input=input,
        output=output,
        enable_history_search=False,
        mouse_support=False,
    )


async def ask_multiline(
    text: str,
    *,
    cursor: int | None = None,
    error: str = "",
    input: Input | None = None,
    output: Output | None = None,
) -> str | None:
    """Edit ``text`` in a multiline buffer: Esc Enter accepts, Ctrl-C abandons (``None``).

    ``cursor`` places the cursor (the end by default); ``error`` says in the toolbar why
    the buffer is open again (a JSON mistake at the cursor).
    """
    keys = " Esc Enter (or Alt-Enter): send │ Ctrl-C: abandon "
    toolbar: StyleAndTextTuples = [("", keys)]
    if error:
        toolbar = [("class:toolbar.error", f" {error} "), ("", " │" + keys)]
    editor: PromptSession[str] = PromptSession(
        message=[("class:prompt.arrow", "edit ›\n")],
        multiline=True,
        lexer=ConsoleLexer(json_only=True),
        bottom_toolbar=toolbar,
        style=STYLE,
        input=input,
        output=output,
    )
    position = len(text) if cursor is None else max(0, min(cursor, len(text)))
    try:
        return await editor.prompt_async(default=Document(text, position))
    except (KeyboardInterrupt, EOFError):
        return None
