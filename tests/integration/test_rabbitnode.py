"""The private-broker machinery itself: ``tools/rabbitnode.py`` and its fixtures."""

from __future__ import annotations

import json
import signal
import socket
import ssl
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pika
import pytest
from pika.exceptions import AMQPConnectionError

from tests.fixtures.rabbit import RabbitNode
from tests.integration.support import wait_until

pytestmark = pytest.mark.rabbitmq
SCRIPT = Path(__file__).resolve().parents[2] / "tools" / "rabbitnode.py"


def queue_names(node: RabbitNode) -> list[str]:
    listed = node.rabbitmqctl("list_queues", "--quiet", "--no-table-headers", "name")
    return listed.split()


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def connect(url: str) -> pika.BlockingConnection:
    return pika.BlockingConnection(pika.URLParameters(url))


def declare_with_message(url: str, queue: str) -> None:
    """A durable queue holding one persistent, confirmed message."""
    connection = connect(url)
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        channel.queue_declare(queue, durable=True)
        properties = pika.BasicProperties(delivery_mode=pika.DeliveryMode.Persistent)
        channel.basic_publish("", queue, b"kept", properties, mandatory=True)
    finally:
        connection.close()


def message_count(url: str, queue: str) -> int:
    connection = connect(url)
    try:
        ok = connection.channel().queue_declare(queue, passive=True)
        return int(ok.method.message_count)
    finally:
        connection.close()


def test_node_serves_amqp_and_rabbitmqctl_sees_it(
    rabbit_node: RabbitNode, broker_url: str, ns: Callable[[str], str]
) -> None:
    assert broker_url == rabbit_node.url
    assert broker_url.startswith("amqp://guest:guest@127.0.0.1:")
    queue = ns("probe")
    connection = connect(broker_url)
    try:
        channel = connection.channel()
        channel.queue_declare(queue)
        assert queue in queue_names(rabbit_node)
        channel.queue_delete(queue)
        assert queue not in queue_names(rabbit_node)
    finally:
        connection.close()
    assert rabbit_node.amqp_port != 5672 and rabbit_node.epmd_port != 4369


def test_stop_app_and_start_app_keep_durable_queues(
    fresh_rabbit_node: RabbitNode, ns: Callable[[str], str]
) -> None:
    node, queue = fresh_rabbit_node, ns("durable")
    declare_with_message(node.url, queue)

    node.stop_app()
    assert not port_open(node.amqp_port)
    with pytest.raises(AMQPConnectionError):
        connect(node.url)

    node.start_app()
    assert message_count(node.url, queue) == 1
    assert queue in queue_names(node)


def test_restart_keeps_ports_name_and_data(
    fresh_rabbit_node: RabbitNode, ns: Callable[[str], str]
) -> None:
    node, queue = fresh_rabbit_node, ns("durable")
    url, name, pid = node.url, node.name, node.pid
    declare_with_message(url, queue)

    node.restart()

    assert (node.url, node.name) == (url, name)
    assert node.pid != pid
    assert message_count(url, queue) == 1


def test_tls_node_accepts_amqps_with_the_test_ca(rabbit_tls_node: RabbitNode) -> None:
    node = rabbit_tls_node
    assert node.tls_url.startswith("amqps://guest:guest@localhost:")
    files = node.tls_files
    context = ssl.create_default_context(cafile=str(files.ca))
    context.load_cert_chain(str(files.cert), str(files.key))
    parameters = pika.URLParameters(node.tls_url)
    parameters.ssl_options = pika.SSLOptions(context, "localhost")
    connection = pika.BlockingConnection(parameters)
    try:
        assert connection.is_open
        connection.channel().queue_declare("", exclusive=True)
    finally:
        connection.close()

    without_client_cert = ssl.create_default_context(cafile=str(files.ca))
    parameters.ssl_options = pika.SSLOptions(without_client_cert, "localhost")
    pika.BlockingConnection(parameters).close()  # fail_if_no_peer_cert = false

    untrusting = ssl.create_default_context()  # the system CAs do not know the test CA
    parameters.ssl_options = pika.SSLOptions(untrusting, "localhost")
    with pytest.raises(ssl.SSLCertVerificationError):
        pika.BlockingConnection(parameters)


def test_busy_port_fails_fast_and_clearly(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        node = RabbitNode(tmp_path, amqp_port=busy.getsockname()[1])
        with pytest.raises(RuntimeError, match="already in use"):
            node.start()
    assert not node.running


def test_script_starts_a_detached_node_and_stops_it(tmp_path: Path) -> None:
    def script(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, str(SCRIPT), *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return done.stdout

    directory = tmp_path / "node"
    try:
        url = script("start", str(directory))
        assert url.count("\n") == 1 and url.startswith("amqp://guest:guest@127.0.0.1:")
        url = url.strip()
        state = json.loads((directory / "node.json").read_text())
        assert state["url"] == url and state["pid"]
        assert script("url", str(directory)).strip() == url
        connect(url).close()  # alive after the script exited
    finally:
        script("stop", str(directory))
    assert not port_open(state["amqp_port"])
    assert not port_open(state["epmd_port"])
    assert not RabbitNode.attach(directory).running
    script("stop", str(directory))  # idempotent


OWNER = """
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[2])
from rabbitnode import RabbitNode
node = RabbitNode(Path(sys.argv[1]))
node.start()
print(node.url, flush=True)
sys.stdin.read()  # killed here, never calling stop()
"""


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_a_node_dies_with_the_process_that_started_it(tmp_path: Path) -> None:
    owner = subprocess.Popen(
        [sys.executable, "-c", OWNER, str(tmp_path), str(SCRIPT.parent)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert owner.stdout is not None
        url = owner.stdout.readline().strip()
        connect(url).close()
        state = json.loads((tmp_path / "node.json").read_text())
        assert len(live_group_members(state["pid"])) >= 2  # the script and beam.smp
    finally:
        owner.send_signal(signal.SIGKILL)
        owner.communicate()
    wait_until(lambda: not port_open(state["amqp_port"]) and not port_open(state["epmd_port"]))
    wait_until(lambda: not live_group_members(state["pid"]))


def live_group_members(pgid: int) -> list[int]:
    """Processes of the process group that are neither gone nor zombies."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(stat.parent.name))
    return members
