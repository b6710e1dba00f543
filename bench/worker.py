"""Worker processes for the scenarios that need another process.

``python -m bench.worker ROLE URL EXCHANGE KEY [KEY2] [--prefetch N]`` prints ``ready``
once it consumes and stops on SIGTERM. Roles:

- ``aio-pika-echo`` / ``pika-echo``: reply to every call with its body.
- ``aio-pika-chain``: KEY calls KEY2 (an echo) and replies with that.
- ``vincent-rss`` / ``aio-pika-rss``: connected but idle until SIGUSR1, then consume with a
  20 ms handler (the backlog scenario).

vincent's echo and chain workers are not here: they run as users run them, with
``vincent serve bench.apps:echo`` (see :mod:`bench.apps` and ``procs.SERVED``).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Callable

HANDLER_SECONDS = 0.02


def _ready() -> None:
    print("ready", flush=True)


def _on_signal(sig: signal.Signals, callback: Callable[[], None]) -> None:
    asyncio.get_running_loop().add_signal_handler(sig, callback)


# -- vincent -------------------------------------------------------------------------


async def vincent_worker(
    role: str, url: str, exchange: str, keys: list[str], prefetch: int
) -> None:
    from vincent_core import Message, Vincent

    app = Vincent(url, exchange=exchange, concurrency=prefetch)
    active = False

    def activate() -> None:
        nonlocal active
        active = True

    @app.listen(keys[0], active=lambda: active, active_interval=0.05)
    async def slow(msg: Message) -> None:
        await asyncio.sleep(HANDLER_SECONDS)

    app.on_start(lambda client: _on_signal(signal.SIGUSR1, activate))

    app.on_start(lambda client: _ready())
    await app.serve(grace=5.0)


# -- aio-pika ------------------------------------------------------------------------


async def aio_pika_worker(
    role: str, url: str, exchange: str, keys: list[str], prefetch: int
) -> None:
    import aio_pika
    from aio_pika.abc import AbstractIncomingMessage

    from bench.baseline import RpcClient, consume, reply_to

    stop = asyncio.Event()
    _on_signal(signal.SIGTERM, stop.set)
    _on_signal(signal.SIGINT, stop.set)
    connection = await aio_pika.connect(url)
    channel = await connection.channel(publisher_confirms=True)
    await channel.set_qos(prefetch_count=prefetch)
    await channel.declare_exchange(exchange, aio_pika.ExchangeType.TOPIC, durable=True)
    client: RpcClient | None = None

    async def echo(message: AbstractIncomingMessage) -> None:
        await reply_to(channel, message, aio_pika_loads(message.body))
        await message.ack()

    async def first(message: AbstractIncomingMessage) -> None:
        assert client is not None
        value = await client.call(keys[1], aio_pika_loads(message.body))
        await reply_to(channel, message, value)
        await message.ack()

    async def slow(message: AbstractIncomingMessage) -> None:
        aio_pika_loads(message.body)
        await asyncio.sleep(HANDLER_SECONDS)
        await message.ack()

    if role == "echo":
        await consume(channel, keys[0], exchange, echo)
    elif role == "chain":
        client = RpcClient(url, exchange)
        await client.open()
        await consume(channel, keys[1], exchange, echo)
        await consume(channel, keys[0], exchange, first)
    else:
        declared = await channel.declare_queue(keys[0], durable=True)
        await declared.bind(exchange, routing_key=keys[0])

        started: set[asyncio.Future[str]] = set()

        def activate() -> None:
            started.add(asyncio.ensure_future(declared.consume(slow)))

        _on_signal(signal.SIGUSR1, activate)
    _ready()
    await stop.wait()
    if client is not None:
        await client.close()
    await connection.close()


def aio_pika_loads(body: bytes) -> object:
    import orjson

    return orjson.loads(body)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.worker")
    parser.add_argument(
        "role",
        choices=[
            *(f"aio-pika-{role}" for role in ("echo", "chain", "rss")),
            "vincent-rss",
            "pika-echo",
        ],
    )
    parser.add_argument("url")
    parser.add_argument("exchange")
    parser.add_argument("keys", nargs="+")
    parser.add_argument("--prefetch", type=int, default=100)
    args = parser.parse_args(argv)
    side, role = args.role.rsplit("-", 1)
    if side == "pika":
        from bench.pika_side import serve_echo

        serve_echo(args.url, args.exchange, args.keys[0], args.prefetch)
        return
    run = vincent_worker if side == "vincent" else aio_pika_worker
    try:
        asyncio.run(run(role, args.url, args.exchange, args.keys, args.prefetch))
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
