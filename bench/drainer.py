"""``python -m bench.drainer URL EXCHANGE KEY COUNT``: drain COUNT waiting messages with
an ``async def`` handler on the loop ``vincent serve`` would choose (uvloop when the
``[speed]`` extra is importable), ``Vincent()`` with its defaults.

Prints ``loop NAME`` once it consumes, then the seconds from the first handled message
to the last: the in-process drain of scenario 2, in a process of its own.
"""

from __future__ import annotations

import asyncio
import sys

from bench.runner import Tally
from vincent_core import Message, Vincent
from vincent_core.app.loop import run


async def drain(url: str, exchange: str, key: str, count: int) -> float:
    app = Vincent(url, exchange=exchange)
    tally = Tally(count)

    @app.listen(key)
    async def handle(msg: Message) -> None:
        tally.hit()

    async with app.running(grace=10.0):
        print(f"loop {type(asyncio.get_running_loop()).__module__}", flush=True)
        return await tally.wait(60 + count / 500)


def main() -> None:
    url, exchange, key, count = sys.argv[1:5]
    print(f"{run(drain(url, exchange, key, int(count))):.6f}", flush=True)


if __name__ == "__main__":
    main()
