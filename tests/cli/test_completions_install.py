"""`vincent completions install|show` (issue 15 item 11): the installed script is
sourced in a real bash, zsh and fish (installed from Debian when missing and root)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.helpers import ROOT, Cli, bash_complete


def need_shell(name: str) -> str:
    """The shell's path; Debian's package is installed when missing (root only, as
    tools/rabbitnode.py ensures rabbitmq-server), else the test is skipped."""
    found = shutil.which(name)
    if found is None and os.geteuid() == 0 and shutil.which("apt-get"):
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        install = ["apt-get", "install", "-y", "--no-install-recommends", name]
        if subprocess.run(install, env=env, capture_output=True, check=False).returncode:
            subprocess.run(["apt-get", "update"], env=env, capture_output=True, check=False)
            subprocess.run(install, env=env, capture_output=True, check=False)
        found = shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed and cannot be installed here (needs root and apt)")
    return found


@pytest.fixture
def home(offline_cli: Cli, tmp_path: Path) -> Path:
    for variable in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "ZDOTDIR"):
        offline_cli.env.pop(variable, None)
    offline_cli.env["HOME"] = str(tmp_path)
    return tmp_path


def test_bash_install_then_source(offline_cli: Cli, home: Path) -> None:
    need_shell("bash")
    result = offline_cli.run("completions", "install", "bash")
    assert result.code == 0, result.stderr
    script = home / ".local/share/bash-completion/completions/vincent"
    assert result.stderr.splitlines()[0] == f"wrote {script}"

    def complete(line: str) -> list[str]:
        return bash_complete(line, script)

    assert complete("vincent completions i") == ["install"]
    assert complete("vincent call --fa") == ["--fail-fast"]
    assert complete("vincent completions show ") == ["bash", "zsh", "fish"]


def test_zsh_install_then_load(offline_cli: Cli, home: Path) -> None:
    zsh = need_shell("zsh")
    result = offline_cli.run("completions", "install", "zsh")
    assert result.code == 0, result.stderr
    script = home / ".zfunc/_vincent"
    assert script.is_file()
    assert f"fpath=({script.parent} $fpath)" in result.stderr
    program = (
        f"fpath=({script.parent} $fpath); autoload -Uz compinit; compinit -u -d {home}/dump; "
        "print -r -- ${_comps[vincent]}; autoload +X _vincent && print loaded"
    )
    done = subprocess.run(
        [zsh, "-f", "-c", program], capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["_vincent", "loaded"]


def test_fish_install_then_complete(offline_cli: Cli, home: Path) -> None:
    fish = need_shell("fish")
    result = offline_cli.run("completions", "install", "fish")
    assert result.code == 0, result.stderr
    script = home / ".config/fish/completions/vincent.fish"
    done = subprocess.run(
        [fish, "--no-config", "-c", f"source {script}; complete -C'vincent completions '"],
        capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    assert [line.split("\t")[0] for line in done.stdout.splitlines()] == ["install", "show"]


def test_show_prints_the_shipped_script(offline_cli: Cli) -> None:
    for shell, name in (("bash", "vincent.bash"), ("zsh", "_vincent"), ("fish", "vincent.fish")):
        result = offline_cli.run("completions", "show", shell)
        assert result.code == 0
        assert result.stdout.decode() == (ROOT / "completions" / name).read_text()


def test_unknown_shell_is_a_usage_error(offline_cli: Cli, home: Path) -> None:
    result = offline_cli.run("completions", "install", SHELL="/bin/tcsh")
    assert result.code == 2
    assert "cannot tell the shell from SHELL='/bin/tcsh'" in result.stderr


def test_module_help_creates_no_directory(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "vincent_cli.completions", "--help"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )  # fmt: skip
    assert done.returncode == 0
    assert "usage:" in done.stdout
    assert list(tmp_path.iterdir()) == []
