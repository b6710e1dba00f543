"""`make demo`: example workers serving real cast and call traffic over RabbitMQ.

Starts a private RabbitMQ node (unless VINCENT_BROKER_URL is set), runs
`vincent serve examples.files:app` in the background, drives it with the real CLI,
then stops everything cleanly.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
VINCENT = str(Path(sys.executable).with_name("vincent"))
BOLD, DIM, RESET = ("\033[1m", "\033[2m", "\033[0m") if sys.stdout.isatty() else ("", "", "")


def say(text: str) -> None:
    print(f"\n{BOLD}{text}{RESET}", flush=True)


def run(*args: str, env: dict[str, str]) -> str:
    """Run a vincent command as a user would, showing the command and its output."""
    print(f"{DIM}${RESET} vincent {shlex.join(args)}", flush=True)
    result = subprocess.run(
        [VINCENT, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    output = (result.stdout + result.stderr).rstrip()
    if output:
        print(output, flush=True)
    if result.returncode != 0:
        raise SystemExit(f"demo failed: `vincent {shlex.join(args)}` exited {result.returncode}")
    return result.stdout


def wait_for_worker(url: str, queue: str, timeout: float = 60.0) -> None:
    from vincent_core import Client

    async def consumers() -> int:
        async with Client(url) as client:
            info = await client.queue_info(queue)
            return info.consumers if info else 0

    deadline = time.monotonic() + timeout
    while asyncio.run(consumers()) < 1:
        if time.monotonic() > deadline:
            raise SystemExit(f"demo failed: no worker consumed {queue!r} within {timeout:g}s")
        time.sleep(0.1)


def demo(url: str) -> None:
    env = dict(os.environ, VINCENT_BROKER_URL=url, PYTHONPATH=str(ROOT))
    say("1. Start the example workers (examples/files.py) in the background")
    print(f"{DIM}${RESET} vincent serve examples.files:app &", flush=True)
    worker = subprocess.Popen([VINCENT, "serve", "examples.files:app"], env=env, cwd=ROOT)
    try:
        wait_for_worker(url, "file.encrypt.queue")
        say("2. A call: file.get returns the file's bytes (a plain `def` handler)")
        run("call", "file.get", "file=hello.txt", env=env)

        say("3. A nested call: file.encrypt calls file.get, then casts file.encrypted")
        run("call", "file.encrypt", "file=hello.txt", "key_id:=1234", env=env)

        say("4. A cast, watched by `vincent listen` (it taps a copy, steals nothing)")
        print(f"{DIM}${RESET} vincent listen file.encrypted --count 1 --timeout 20 &")
        listener = subprocess.Popen(
            [VINCENT, "listen", "file.encrypted", "--count", "1", "--timeout", "20"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        # The tap needs a moment to bind its queue; cast again until it has seen one.
        run("cast", "file.encrypt", '{"file": "hello.txt", "key_id": 99}', env=env)
        deadline = time.monotonic() + 20
        while listener.poll() is None and time.monotonic() < deadline:
            try:
                listener.wait(1.0)
            except subprocess.TimeoutExpired:
                subprocess.run(
                    [VINCENT, "cast", "file.encrypt", '{"file": "hello.txt", "key_id": 99}'],
                    env=env,
                    cwd=ROOT,
                    capture_output=True,
                    timeout=60,
                )
        out, err = listener.communicate(timeout=30)
        print((out + err).rstrip(), flush=True)

        say("5. Errors travel back to the caller, with the remote traceback")
        print(f"{DIM}${RESET} vincent call file.get file=../../etc/passwd", flush=True)
        failed = subprocess.run(
            [VINCENT, "call", "file.get", "file=../../etc/passwd"],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        print(failed.stderr.strip().splitlines()[0] if failed.stderr else "", flush=True)
        print(f"{DIM}(exit code {failed.returncode}: the remote handler raised){RESET}")

        say("6. Whole conversations: `vincent trace` pairs each call with its reply")
        trace(env)

        say("7. A typed handler checks the body first: the caller gets the fields")
        print(f"{DIM}${RESET} vincent call file.encrypt file=hello.txt key_id=one", flush=True)
        invalid = subprocess.run(
            [VINCENT, "call", "file.encrypt", "file=hello.txt", "key_id=one"],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        print(invalid.stderr.rstrip(), flush=True)
        if invalid.returncode != 1 or "key_id:" not in invalid.stderr:
            raise SystemExit(f"demo failed: an invalid call exited {invalid.returncode}")
        print(
            f"{DIM}(exit code 1; `vincent asyncapi examples.files:app` documents the types){RESET}"
        )

        say("8. SIGTERM: the worker stops consuming, finishes in-flight work, exits 0")
        worker.send_signal(signal.SIGTERM)
        code = worker.wait(60)
        print(f"worker exited with {code}", flush=True)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    say("Next: `vincent dev examples.files:app` runs the same app with a console, no broker")


def trace(env: dict[str, str]) -> None:
    """``vincent trace`` reads RabbitMQ's firehose (on for the demo's own node)."""
    print(f"{DIM}${RESET} vincent trace 'file.#' --count 3 &", flush=True)
    tracer = subprocess.Popen(
        [VINCENT, "--output", "pretty", "trace", "file.#", "--count", "3", "--timeout", "20"],
        env={**env, "COLUMNS": "120"},
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert tracer.stderr is not None
    ready = tracer.stderr.readline()
    if not ready.startswith("tracing exchange"):
        tracer.wait(30)
        print(ready.strip() or "vincent trace did not start", flush=True)
        return
    run("call", "file.encrypt", "file=hello.txt", "key_id:=7", env=env)
    out, err = tracer.communicate(timeout=30)
    print((out + err).rstrip(), flush=True)


def main() -> None:
    url = os.environ.get("VINCENT_BROKER_URL")
    if url:
        demo(url)
        return
    from rabbitnode import RabbitNode

    with tempfile.TemporaryDirectory(prefix="vincent-demo-") as tmp:
        say("0. Start a private RabbitMQ node (temp dir, free ports)")
        started = time.monotonic()
        node = RabbitNode(Path(tmp))
        node.start()
        node.rabbitmqctl("trace_on")  # the firehose, for `vincent trace` (step 6)
        print(f"RabbitMQ up at {node.url} in {time.monotonic() - started:.1f}s", flush=True)
        try:
            demo(node.url)
        finally:
            node.stop()


if __name__ == "__main__":
    main()
