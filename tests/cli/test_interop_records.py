"""Records and foreign clients (contract 6.1): JSON from any publisher is readable as
``body``; replay sends the exact bytes; ``--exchange ""`` is the AMQP default exchange."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson
import pika
import pytest

from tests.cli.helpers import Cli

pytestmark = pytest.mark.rabbitmq


def pika_publish(url: str, exchange: str, key: str, body: bytes) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        connection.channel().basic_publish(exchange=exchange, routing_key=key, body=body)
    finally:
        connection.close()


def test_json_spaced_by_json_dumps_is_readable_and_replays_byte_for_byte(
    cli: Cli, ns: Callable[..., str], tmp_path: Path
) -> None:
    spaced = json.dumps({"path": "/gfs1/f.dat", "sizes": [1, 2]}).encode()
    assert spaced != orjson.dumps(json.loads(spaced))  # pika users send this spacing
    tap = cli.listen(ns("#"), "--count", "1", "--timeout", "30")
    pika_publish(cli.env["VINCENT_BROKER_URL"], cli.env["VINCENT_EXCHANGE"], ns("a"), spaced)
    done = tap.finish()
    assert done.code == 0, done.stderr
    (record,) = done.lines
    assert record["body"] == {"path": "/gfs1/f.dat", "sizes": [1, 2]}
    assert base64.b64decode(record["body_b64"]) == spaced

    traffic = tmp_path / "spaced.jsonl"
    traffic.write_bytes(done.stdout)
    again = cli.listen(ns("again"), "--count", "1", "--timeout", "30")
    replay = cli.run("replay", str(traffic), "--key-map", f"{ns('a')}={ns('again')}")
    assert replay.code == 0, replay.stderr
    (copy,) = again.finish().lines
    assert base64.b64decode(copy["body_b64"]) == spaced


def test_compact_json_has_body_only(cli: Cli, ns: Callable[..., str]) -> None:
    dry = cli.run("cast", "--dry-run", ns("k"), "n:=1")
    assert dry.code == 0, dry.stderr
    record = orjson.loads(dry.stdout)
    assert record["body"] == {"n": 1}
    assert "body_b64" not in record


def test_hand_written_record_needs_no_ts(cli: Cli, ns: Callable[..., str], tmp_path: Path) -> None:
    traffic = tmp_path / "hand.jsonl"
    line = {"exchange": "", "key": ns("k"), "headers": {}, "properties": {}, "body": {"n": 7}}
    traffic.write_bytes(orjson.dumps(line) + b"\n")
    tap = cli.listen(ns("k"), "--count", "1", "--timeout", "30")
    replay = cli.run("replay", str(traffic))
    assert replay.code == 0, replay.stderr
    (seen,) = tap.finish().lines
    assert seen["body"] == {"n": 7}

    timed = cli.run("replay", str(traffic), "--timing")
    assert timed.code == 2
    assert (
        timed.stderr.strip()
        == "vincent: error: --timing needs 'ts' in every record; record 1 has none"
    )


@pytest.fixture
def tutorial_server(broker_url: str, ns: Callable[..., str]) -> Iterator[str]:
    """RabbitMQ's RPC tutorial server (pika, default exchange) on its own queue."""
    queue = ns("rpc_queue")
    ready = threading.Event()
    stop = threading.Event()

    def serve() -> None:
        connection = pika.BlockingConnection(pika.URLParameters(broker_url))
        channel = connection.channel()
        channel.queue_declare(queue=queue, auto_delete=True)

        def on_request(ch, method, props, body) -> None:
            n = json.loads(body)["n"]
            a, b = 0, 1
            for _ in range(n):
                a, b = b, a + b
            ch.basic_publish(
                exchange="",
                routing_key=props.reply_to,
                properties=pika.BasicProperties(correlation_id=props.correlation_id),
                body=json.dumps(a).encode(),
            )
            ch.basic_ack(delivery_tag=method.delivery_tag)

        channel.basic_consume(queue=queue, on_message_callback=on_request)
        ready.set()
        while not stop.is_set():
            connection.process_data_events(time_limit=0.1)
        connection.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert ready.wait(30), "the tutorial server did not start"
    yield queue
    stop.set()
    thread.join(10)


def test_empty_exchange_flag_reaches_a_tutorial_rpc_server(cli: Cli, tutorial_server: str) -> None:
    result = cli.run("--exchange", "", "call", tutorial_server, "n:=30", "--timeout", "20")
    assert result.code == 0, result.stderr
    assert orjson.loads(result.stdout) == 832040


def test_empty_exchange_environment_is_not_replaced(cli: Cli, tutorial_server: str) -> None:
    result = cli.run("call", tutorial_server, "n:=10", "--timeout", "20", VINCENT_EXCHANGE="")
    assert result.code == 0, result.stderr
    assert orjson.loads(result.stdout) == 55
    config = cli.run("config", VINCENT_EXCHANGE="")
    rows = {row["name"]: row for row in config.lines}
    assert rows["exchange"] == {"name": "exchange", "value": "", "source": "env VINCENT_EXCHANGE"}
