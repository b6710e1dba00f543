"""Shell completions for bash, zsh and fish, generated from the CLI itself.

``python -m vincent_cli.completions completions`` (``make completions``) writes
``completions/vincent.bash``, ``completions/_vincent`` and ``completions/vincent.fish``;
a test regenerates them and fails when the checked-in files drifted from the CLI.

The scripts complete commands, subcommands, options, choices (``--output
json|pretty|raw``), files for ``FILE`` arguments and for ``@file`` bodies without running
anything (instant), each positional argument by its own kind (``cast KEY BODY``: a key,
then a body). Routing keys (``KEY``, ``PATTERN``) are the one thing asked of the broker:
``vincent services --keys`` with the ``--broker``/``-b``, ``--exchange``, ``--context``
and ``--api`` already on the line, cut off after ``VINCENT_COMPLETION_TIMEOUT`` seconds
(default 2) and silent on failure; never for an option or ``--help``. The wheel ships the
scripts under ``share/`` (where system-wide shells look), and ``vincent completions
install`` writes the one for the user's shell where it loads without root
(:func:`install_path`).
"""

from __future__ import annotations

from pathlib import Path

from vincent_cli.completions.bash import render_bash
from vincent_cli.completions.fish import render_fish
from vincent_cli.completions.model import Argument, Command, Option, describe_cli
from vincent_cli.completions.zsh import render_zsh

__all__ = [
    "FILES",
    "Argument",
    "Command",
    "Option",
    "activation",
    "describe_cli",
    "install_path",
    "main",
    "render",
    "render_all",
    "render_bash",
    "render_fish",
    "render_zsh",
]


def render_all() -> dict[str, str]:
    """Every completion file by name."""
    root = describe_cli()
    return {
        "vincent.bash": render_bash(root),
        "_vincent": render_zsh(root),
        "vincent.fish": render_fish(root),
    }


#: the file name of each shell's script
FILES = {"bash": "vincent.bash", "zsh": "_vincent", "fish": "vincent.fish"}


def render(shell: str) -> str:
    """The completion script for ``shell`` (bash, zsh or fish)."""
    return render_all()[FILES[shell]]


def install_path(shell: str, environ: dict[str, str] | None = None) -> Path:
    """Where ``vincent completions install`` puts a shell's script, per user: the
    directories bash-completion and fish load on demand; for zsh a directory to add to
    ``fpath`` (:func:`activation`)."""
    import os

    env = dict(os.environ) if environ is None else environ
    home = Path(env.get("HOME") or Path.home())
    data = Path(env.get("XDG_DATA_HOME") or home / ".local" / "share")
    config = Path(env.get("XDG_CONFIG_HOME") or home / ".config")
    if shell == "bash":
        return data / "bash-completion" / "completions" / "vincent"
    if shell == "zsh":
        return Path(env.get("ZDOTDIR") or home) / ".zfunc" / "_vincent"
    return config / "fish" / "completions" / "vincent.fish"


def activation(shell: str, path: Path) -> str:
    """What the user still has to do for ``shell`` to load ``path`` (empty: nothing)."""
    if shell == "bash":
        return (
            "bash-completion loads it in new shells; without bash-completion add to "
            f"~/.bashrc: source {path}"
        )
    if shell == "zsh":
        return (
            f"add to ~/.zshrc, before compinit: fpath=({path.parent} $fpath); "
            "autoload -Uz compinit && compinit"
        )
    return "fish loads it in new shells"


def main(argv: list[str]) -> int:
    """``python -m vincent_cli.completions [DIR]``: write every script into DIR
    (default: completions), as ``make completions`` does."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m vincent_cli.completions",
        description="Write the bash, zsh and fish completion scripts into DIR.",
    )
    parser.add_argument("dir", nargs="?", default="completions", metavar="DIR")
    directory = Path(parser.parse_args(argv).dir)
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in render_all().items():
        (directory / name).write_text(text)
        print(f"wrote {directory / name}")
    return 0
