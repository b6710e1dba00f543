"""The ten-line aio-pika script `vincent cast` races: a confirmed, persistent, mandatory publish."""

import asyncio
import sys
import time
import uuid

import aio_pika


async def main(url: str, exchange: str, key: str, body: str) -> None:
    async with await aio_pika.connect(url) as connection:
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        target = await channel.get_exchange(exchange, ensure=False)
        message_id, timestamp = uuid.uuid4().hex, time.time()
        message = aio_pika.Message(body.encode(), content_type="application/json", delivery_mode=2,
                                   message_id=message_id, timestamp=timestamp)  # fmt: skip
        await target.publish(message, routing_key=key, mandatory=True)


asyncio.run(main(*sys.argv[1:5]))
