"""``python -m bench.drainer URL EXCHANGE KEY COUNT``: drain COUNT waiting messages with
an ``async def`` handler on the loop ``vincent serve`` would choose (uvloop when the
``[speed]`` extra is importable), ``Vincent()`` with its defaults.

Prints ``loop NAME`` once it consumes, then the seconds from the first handled message
to the last: the in-process drain of scenario 2, in a process of its own.
"""

from __future__ import annotations

import asyncio
import sys
import time

from vincent_core import Message, Vincent
from vincent_core.app.loop import run


async def drain(url: str, exchange: str, key: str, count: int) -> float:
    app = Vincent(url, exchange=exchange)
    done = asyncio.Event()
    seen = 0
    first = last = 0.0

    @app.listen(key)
    async def handle(msg: Message) -> None:
        nonlocal seen, first, last
        now = time.perf_counter()
        seen += 1
        if seen == 1:
            first = now
        if seen == count:
            last = now
            done.set()

    async with app.running(grace=10.0):
        print(f"loop {type(asyncio.get_running_loop()).__module__}", flush=True)
        await asyncio.wait_for(done.wait(), 60 + count / 500)
    return max(last - first, 1e-9)


def main() -> None:
    url, exchange, key, count = sys.argv[1:5]
    print(f"{run(drain(url, exchange, key, int(count))):.6f}", flush=True)


if __name__ == "__main__":
    main()
