"""``vincent completions install [SHELL]`` and ``vincent completions show SHELL``."""

from __future__ import annotations

import enum
import os
from pathlib import Path
from typing import Annotated

import typer

from vincent_cli.exit_codes import CommandError
from vincent_cli.runtime import get_runtime

__all__ = ["app"]

app = typer.Typer(
    help="Shell completions for bash, zsh and fish.", no_args_is_help=True, add_completion=False
)


class Shell(enum.StrEnum):
    """The shells vincent completes in."""

    bash = "bash"
    zsh = "zsh"
    fish = "fish"


def _login_shell() -> Shell:
    name = Path(os.environ.get("SHELL", "")).name
    try:
        return Shell(name)
    except ValueError:
        raise CommandError(
            f"cannot tell the shell from SHELL={os.environ.get('SHELL', '')!r}: "
            "give it, e.g. vincent completions install zsh"
        ) from None


@app.command("install")
def install(
    ctx: typer.Context,
    shell: Annotated[
        Shell | None,
        typer.Argument(help="bash, zsh or fish (default: from $SHELL).", show_default=False),
    ] = None,
    directory: Annotated[
        Path | None,
        typer.Option(
            "--dir", metavar="DIR", help="Write into DIR instead of the shell's own place."
        ),
    ] = None,
) -> None:
    """Write the completion script for your shell where it loads (no root needed).

    \b
    bash: ~/.local/share/bash-completion/completions/vincent
    zsh:  ~/.zfunc/_vincent (add ~/.zfunc to fpath, as printed)
    fish: ~/.config/fish/completions/vincent.fish
    """
    from vincent_cli.completions import FILES, activation, install_path, render

    chosen = shell or _login_shell()
    path = install_path(chosen.value)
    if directory is not None:
        path = directory / (FILES[chosen.value] if chosen is not Shell.bash else "vincent")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(chosen.value))
    except OSError as exc:
        raise CommandError(f"cannot write {path}: {exc.strerror or exc}") from None
    output = get_runtime(ctx).output
    output.info(f"wrote {path}")
    output.info(activation(chosen.value, path))


@app.command("show")
def show(
    shell: Annotated[Shell, typer.Argument(help="bash, zsh or fish.", show_default=False)],
) -> None:
    """Print the completion script for SHELL (e.g. to eval it: source <(vincent completions
    show bash))."""
    from vincent_cli.completions import render

    typer.echo(render(shell.value), nl=False)
