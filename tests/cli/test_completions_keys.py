"""Bound keys in the shell completions (issue 16): `vincent cast <TAB>` asks the broker's
management API through `vincent services --keys`, in a real bash, zsh and fish.

bash and zsh run interactively on a pseudo-terminal and the test presses TAB: readline
and zle split the line and call the completion as they would for a user; a probe
registered in its place calls it and writes what it offered (and how long it took) to a
file. fish answers `complete -C LINE` with its own completion engine.
"""

from __future__ import annotations

import asyncio
import os
import pty
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.cli.helpers import ROOT, VINCENT, Stream
from tests.cli.test_completions_install import need_shell
from tests.fixtures.rabbit import RabbitNode
from tests.integration.test_edges import silent_listener
from vincent_core.client import Client
from vincent_core.transport.base import QueueSpec

PREFIX = f"ck{uuid.uuid4().hex[:6]}"
EXCHANGE = f"{PREFIX}.x"
OTHER = f"{PREFIX}.y"
KEYS = [f"{PREFIX}.audit.#", f"{PREFIX}.file.get", f"{PREFIX}.file.put", f"{PREFIX}.rpc:ping"]
OTHER_KEYS = [f"{PREFIX}.other.ping"]
SHELLS = ["bash", "zsh", "fish"]
#: the documented bound (KEYS_TIMEOUT), and what a loaded machine adds to it
BOUND = 2.0
SLACK = 3.0

BASH_RC = """
PS1='$ '
bind 'set bell-style none'
source {completions}/vincent.bash
_probes=0
_vincent_probe() {{
    _probes=$((_probes + 1))
    local t0=$EPOCHREALTIME
    _vincent "$@" 2>"{out}/$_probes.err"
    local t1=$EPOCHREALTIME
    printf '%s\\n' "$t0 $t1" "${{COMPREPLY[@]}}" END > "{out}/$_probes"
}}
complete -F _vincent_probe vincent
"""

ZSH_RC = """
PS1='$ '
unsetopt beep
bindkey -e
fpath=({completions} $fpath)
autoload -Uz compinit && compinit -u -D
zmodload zsh/datetime
typeset -g _probes=0
typeset -ga _offered
compadd() {{
    local -a hits
    builtin compadd -O hits "$@"
    _offered+=("${{hits[@]}}")
    builtin compadd "$@"
}}
_vincent_probe() {{
    (( _probes++ ))
    local t0=$EPOCHREALTIME
    _offered=()
    _vincent "$@" 2>"{out}/$_probes.err"
    local t1=$EPOCHREALTIME
    print -rl -- "$t0 $t1" "${{_offered[@]}}" END >| "{out}/$_probes"
}}
compdef _vincent_probe vincent
"""


@dataclass
class Offer:
    """What one completion offered, and how long it took."""

    words: list[str]
    seconds: float
    #: what it wrote to stderr
    errors: str = ""

    @property
    def keys(self) -> list[str]:
        """The words offered that are no option (zsh offers the options when nothing
        else matches)."""
        return [word for word in self.words if not word.startswith("-")]


#: complete(shell, line, env): what ``shell`` offers for ``line``
Complete = Callable[[str, str, dict[str, str]], Offer]


class Terminal:
    """An interactive bash or zsh on a pseudo-terminal, vincent's completion loaded."""

    def __init__(self, shell: str, env: dict[str, str], tmp: Path) -> None:
        self.out = tmp / f"{shell}-probes"
        self.out.mkdir()
        self.count = 0
        rc = (BASH_RC if shell == "bash" else ZSH_RC).format(
            completions=ROOT / "completions", out=self.out
        )
        home = tmp / f"{shell}-home"
        home.mkdir()
        env = {**env, "HOME": str(home), "TERM": "xterm", "LC_ALL": "C"}
        if shell == "bash":
            (home / "rc").write_text(rc)
            argv = [need_shell("bash"), "--noprofile", "--rcfile", str(home / "rc"), "-i"]
        else:
            (home / ".zshrc").write_text(rc)
            env["ZDOTDIR"] = str(home)
            argv = [need_shell("zsh"), "-d", "-i"]
        leader, follower = pty.openpty()
        self.process = subprocess.Popen(
            argv, stdin=follower, stdout=follower, stderr=follower, env=env, cwd=tmp,
            start_new_session=True,
        )  # fmt: skip
        os.close(follower)
        self.leader = leader
        self.screen = Stream(os.fdopen(os.dup(leader), "rb", buffering=0))

    def complete(self, line: str, timeout: float = 60.0) -> Offer:
        """Type ``line``, press TAB, and return what the completion offered."""
        self.count += 1
        os.write(self.leader, line.encode() + b"\t")
        probe = self.out / str(self.count)
        deadline = time.monotonic() + timeout
        while not (probe.is_file() and probe.read_text().endswith("END\n")):
            if time.monotonic() > deadline:
                shown = b"".join(self.screen.lines).decode(errors="replace")[-2000:]
                raise AssertionError(f"no completion for {line!r} within {timeout}s: {shown}")
            time.sleep(0.02)  # polling a file the shell writes, under a deadline
        os.write(self.leader, b"\x15")  # kill the line for the next one
        first, *words, _end = probe.read_text().splitlines()
        started, ended = (float(t) for t in first.split())
        return Offer(words, ended - started, (self.out / f"{self.count}.err").read_text())

    def close(self) -> None:
        self.process.kill()
        self.process.wait()
        os.close(self.leader)


def fish_complete(line: str, env: dict[str, str]) -> Offer:
    """What fish offers for ``line`` (its completion engine, `complete -C`)."""
    script = ROOT / "completions" / "vincent.fish"
    started = time.monotonic()
    done = subprocess.run(
        [need_shell("fish"), "--no-config", "-c", f"source {script}; complete -C{line!r}"],
        capture_output=True, text=True, timeout=60, env=env, check=True,
    )  # fmt: skip
    seconds = time.monotonic() - started
    return Offer([row.split("\t")[0] for row in done.stdout.splitlines()], seconds, done.stderr)


@pytest.fixture
def complete(tmp_path: Path) -> Iterator[Complete]:
    """complete(shell, line, env), with one terminal per shell and environment."""
    terminals: dict[tuple[str, tuple[tuple[str, str], ...]], Terminal] = {}

    def run(shell: str, line: str, env: dict[str, str]) -> Offer:
        if shell == "fish":
            return fish_complete(line, env)
        key = (shell, tuple(sorted(env.items())))
        if key not in terminals:
            directory = tmp_path / f"terminal{len(terminals)}"
            directory.mkdir()
            terminals[key] = Terminal(shell, env, directory)
        return terminals[key].complete(line)

    yield run
    for terminal in terminals.values():
        terminal.close()


def base_env(path: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("VINCENT_", "AMQP_", "BASH_", "ZDOTDIR", "PROMPT_COMMAND"))
    }
    env["PATH"] = path
    return env


@pytest.fixture(scope="module")
def bound(mgmt_node: RabbitNode) -> RabbitNode:
    """KEYS bound on EXCHANGE and OTHER_KEYS on OTHER, each to a queue of its own."""

    async def bind() -> None:
        for exchange, keys in ((EXCHANGE, KEYS), (OTHER, OTHER_KEYS)):
            async with Client(mgmt_node.url, exchange=exchange) as client:
                for key in keys:
                    queue = f"{key}.q"
                    spec = QueueSpec(queue, durable=False, auto_delete=False)
                    await client.transport.declare_queue(spec)
                    await client.transport.bind(queue, exchange, key)

    asyncio.run(bind())
    return mgmt_node


@pytest.fixture
def broker_env(bound: RabbitNode) -> dict[str, str]:
    """The real vincent on PATH, the node's broker, exchange and management API in the
    environment; a generous bound, so that a loaded machine does not lose the keys."""
    env = base_env(f"{Path(VINCENT).parent}:/usr/bin:/bin")
    env.update(
        VINCENT_BROKER_URL=bound.url,
        VINCENT_EXCHANGE=EXCHANGE,
        VINCENT_API_URL=f"http://127.0.0.1:{bound.management_port}",
        VINCENT_COMPLETION_TIMEOUT="30",
    )
    return env


def ours(words: list[str]) -> list[str]:
    return sorted(w.replace("\\", "") for w in words if w.replace("\\", "").startswith(PREFIX))


@pytest.mark.rabbitmq
@pytest.mark.parametrize("shell", SHELLS)
def test_bound_keys_complete_the_key_and_not_the_body(
    shell: str, complete: Complete, broker_env: dict[str, str], bound: RabbitNode
) -> None:
    assert ours(complete(shell, "vincent cast ", broker_env).words) == KEYS
    assert ours(complete(shell, f"vincent call {PREFIX}.file.g", broker_env).words) == [
        f"{PREFIX}.file.get"
    ]
    # the second position of cast is the body: no keys there
    second = complete(shell, f"vincent cast --ttl 5 {PREFIX}.file.get ", broker_env)
    assert ours(second.words) == []
    assert ours(complete(shell, "vincent dead replay --key ", broker_env).words) == KEYS
    # bash cuts words at ':' and replaces only what follows the last one
    colon = complete(shell, f"vincent cast {PREFIX}.rpc:p", broker_env).words
    assert colon == (["ping"] if shell == "bash" else [f"{PREFIX}.rpc:ping"])
    # every position of listen and trace is a pattern
    assert ours(complete(shell, f"vincent listen {PREFIX}.audit.# ", broker_env).words) == KEYS
    # --exchange on the line is passed along
    other = complete(shell, f"vincent --exchange {OTHER} cast ", broker_env)
    assert ours(other.words) == OTHER_KEYS
    # so are --broker (cut at every ':' by bash) and --api, here the only ones that work
    broken = {
        **broker_env,
        "VINCENT_BROKER_URL": f"amqp://guest:wrong@127.0.0.1:{bound.amqp_port}/",
        "VINCENT_API_URL": "",
    }
    assert ours(complete(shell, "vincent cast ", broken).words) == []
    api = f"http://127.0.0.1:{bound.management_port}"
    line = f"vincent -b {bound.url} trace --api {api} "
    assert ours(complete(shell, line, broken).words) == KEYS
    line = f"vincent --broker={bound.url} services --api={api} {PREFIX}.f"
    assert ours(complete(shell, line, broken).words) == KEYS[1:3]


def stub_bin(tmp_path: Path, script: str, *, with_timeout: bool = True) -> str:
    """A PATH of a stub `vincent` (a shell script) and the few tools the scripts use."""
    directory = tmp_path / "bin"
    directory.mkdir()
    stub = directory / "vincent"
    stub.write_text(f"#!/bin/sh\n{script}\n")
    stub.chmod(0o755)
    for tool in ("sh", "sleep") + (("timeout",) if with_timeout else ()):
        found = shutil.which(tool)
        assert found, tool
        (directory / tool).symlink_to(found)
    return str(directory)


@pytest.mark.parametrize("with_timeout", [True, False], ids=["timeout", "no-timeout"])
@pytest.mark.parametrize("shell", SHELLS)
def test_a_hung_vincent_is_cut_off_at_the_bound(
    shell: str, with_timeout: bool, complete: Complete, tmp_path: Path
) -> None:
    env = base_env(stub_bin(tmp_path, "exec sleep 60", with_timeout=with_timeout))
    offer = complete(shell, "vincent cast ", env)
    assert (offer.keys, offer.errors) == ([], "")
    assert BOUND - 0.5 < offer.seconds < BOUND + SLACK


@pytest.mark.parametrize("shell", SHELLS)
def test_a_silent_management_api_gives_nothing_within_the_bound(
    shell: str, complete: Complete, tmp_path: Path
) -> None:
    env = base_env(f"{Path(VINCENT).parent}:/usr/bin:/bin")
    with silent_listener() as port:
        env["VINCENT_API_URL"] = f"http://127.0.0.1:{port}"
        env["VINCENT_BROKER_URL"] = "amqp://guest:guest@127.0.0.1:1/"
        offer = complete(shell, "vincent cast ", env)
    assert (offer.keys, offer.errors) == ([], "")
    # it asked (services --keys waits a second for an answer), and gave up in time
    assert 0.9 < offer.seconds < BOUND + SLACK


@pytest.mark.parametrize("shell", SHELLS)
def test_keys_are_never_asked_for_options_or_help(
    shell: str, complete: Complete, tmp_path: Path
) -> None:
    log = tmp_path / "ran"
    env = base_env(stub_bin(tmp_path, f'echo "$@" >> {log}; echo stub.key'))
    for line in (
        "vincent cast --",
        "vincent cast -",
        "vincent --he",
        "vincent cast --ttl ",
        "vincent listen -q ",
        "vincent call --help ",
    ):
        offer = complete(shell, line, env)
        assert "stub.key" not in offer.words, line
    assert not log.exists(), log.read_text()
    # and where a key goes, it is asked, once
    assert complete(shell, "vincent cast ", env).words == ["stub.key"]
    assert log.read_text().splitlines() == ["services --keys"]


@pytest.mark.parametrize("shell", SHELLS)
def test_the_body_after_the_key_completes_at_file_names(
    shell: str, complete: Complete, tmp_path: Path
) -> None:
    log = tmp_path / "ran"
    env = base_env(stub_bin(tmp_path, f'echo "$@" >> {log}; echo stub.key') + ":/usr/bin:/bin")
    (tmp_path / "body.json").write_text("{}")
    offer = complete(shell, f"vincent call stub.key @{tmp_path}/bo", env)
    assert [word for word in offer.words if word.endswith("body.json")], offer.words
    assert not log.exists()


@pytest.mark.parametrize("shell", SHELLS)
def test_a_hostile_binding_is_offered_never_run(
    shell: str, complete: Complete, tmp_path: Path
) -> None:
    pwned = tmp_path / "pwned"
    keys = f"'x.$(touch {pwned})' 'x.`touch {pwned}`' 'x.a b'"
    env = base_env(stub_bin(tmp_path, f"printf '%s\\n' {keys}"))
    offer = complete(shell, "vincent cast x.", env)
    assert len(offer.keys) == 3, offer
    assert not pwned.exists()
