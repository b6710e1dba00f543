"""Broker URLs and their TLS contexts (``transport/amqp/endpoint.py``), without a broker."""

from __future__ import annotations

import datetime as dt
import importlib
import shutil
import ssl
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from vincent_core.transport.amqp.endpoint import parse_url
from vincent_core.transport.amqp.machine import Credentials

# -- parse_url ---------------------------------------------------------------------------


def test_the_defaults() -> None:
    endpoint = parse_url("amqp://localhost")
    assert (endpoint.host, endpoint.port, endpoint.tls, endpoint.name) == (
        "localhost",
        5672,
        False,
        None,
    )
    assert endpoint.credentials == Credentials(
        user="guest", password="guest", vhost="/", mechanism="PLAIN", heartbeat=60
    )
    assert endpoint.tls_options == {}
    assert endpoint.ssl_context() is None


def test_user_password_host_and_port() -> None:
    endpoint = parse_url("  amqp://bob:s%3Acr%40t@rabbit.example:5673/shop  ")
    assert (endpoint.host, endpoint.port) == ("rabbit.example", 5673)
    assert (endpoint.credentials.user, endpoint.credentials.password) == ("bob", "s:cr@t")
    assert endpoint.credentials.vhost == "shop"


@pytest.mark.parametrize(
    ("url", "vhost"),
    [
        ("amqp://h", "/"),
        ("amqp://h/", "/"),
        ("amqp://h/%2f", "/"),
        ("amqp://h/%2F", "/"),
        ("amqp://h/prod", "prod"),
        ("amqp://h/a%2fb", "a/b"),
        ("amqp://h/caf%C3%A9", "café"),
    ],
)
def test_vhosts(url: str, vhost: str) -> None:
    assert parse_url(url).credentials.vhost == vhost


def test_amqps_defaults_to_port_5671() -> None:
    endpoint = parse_url("amqps://rabbit.example")
    assert (endpoint.port, endpoint.tls) == (5671, True)
    assert parse_url("AMQPS://rabbit.example:5999").port == 5999
    assert parse_url("amqp://[::1]:5673").host == "::1"


def test_the_query_options() -> None:
    endpoint = parse_url(
        "amqp://h/?heartbeat=10&name=billing-worker&auth=external&frame_max=8192"
        "&channel_max=64&timeout=5&connection_timeout=5"
    )
    credentials = endpoint.credentials
    assert credentials.heartbeat == 10 and credentials.mechanism == "EXTERNAL"
    assert (credentials.frame_max, credentials.channel_max) == (8192, 64)
    assert endpoint.name == "billing-worker"
    assert parse_url("amqp://h?auth=PLAIN").credentials.mechanism == "PLAIN"
    assert parse_url("amqp://h?heartbeat=0").credentials.heartbeat == 0


def test_tls_options_are_kept_for_the_context() -> None:
    endpoint = parse_url("amqps://h?cafile=/ca.pem&certfile=/c.pem&keyfile=/c.key&no_verify_ssl=1")
    assert endpoint.tls_options == {
        "cafile": "/ca.pem",
        "certfile": "/c.pem",
        "keyfile": "/c.key",
        "no_verify_ssl": "1",
    }


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("amqp://h?hearbeat=10", "unknown URL option hearbeat"),
        ("amqp://h?b=1&a=2", "unknown URL option a, b"),
        ("http://h", "amqp:// or amqps://, not http"),
        ("rabbit.example:5672", "amqp:// or amqps://"),
        ("", "not none"),
        ("amqp://h:notaport", "ort"),
        ("amqp://h:70000", "ort"),
        ("amqp://h?heartbeat=-1", "heartbeat must not be negative"),
        ("amqp://h?frame_max=-4096", "frame_max must not be negative"),
        ("amqp://h?channel_max=-1", "channel_max must not be negative"),
        ("amqp://h?heartbeat=ten", "heartbeat='ten' is not a whole number"),
        ("amqp://h?heartbeat=", "is not a whole number"),
        ("amqp://h?auth=amqplain", "plain or external"),
    ],
)
def test_bad_urls_are_value_errors(url: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        parse_url(url)


# -- ssl_context -------------------------------------------------------------------------


def make_tls_files(directory: Path) -> tuple[Path, Path, Path]:
    """A throwaway CA, and a certificate and key to present (CA, cert, key)."""
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
    except ImportError:
        if shutil.which("openssl") is None:
            pytest.skip("needs the cryptography package or the openssl command")
        tools = str(Path(__file__).resolve().parents[2] / "tools")
        if tools not in sys.path:
            sys.path.insert(0, tools)
        importlib.import_module("rabbitnode")._make_certs(directory)
        return directory / "ca.pem", directory / "client.pem", directory / "client.key"
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "vincent-unit-test-ca")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    ca = directory / "ca.pem"
    ca.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file = directory / "ca.key"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return ca, ca, key_file


def _subjects(context: ssl.SSLContext) -> list[str]:
    """The common names of the CA certificates ``context`` trusts."""
    certificates: list[dict[str, Any]] = context.get_ca_certs()
    return [
        value
        for certificate in certificates
        for rdn in certificate["subject"]
        for key, value in rdn
        if key == "commonName"
    ]


def test_amqps_verifies_the_broker_by_default() -> None:
    context = parse_url("amqps://h").ssl_context()
    assert context is not None
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname


@pytest.mark.parametrize("value", ["1", "true", "yes"])
def test_no_verify_ssl_turns_the_checks_off(value: str) -> None:
    context = parse_url(f"amqps://h?no_verify_ssl={value}").ssl_context()
    assert context is not None
    assert context.verify_mode == ssl.CERT_NONE and not context.check_hostname


@pytest.mark.parametrize("value", ["0", "", "false", "no"])
def test_no_verify_ssl_off_keeps_the_checks(value: str) -> None:
    context = parse_url(f"amqps://h?no_verify_ssl={value}").ssl_context()
    assert context is not None
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname


@pytest.mark.parametrize("value", ["False", "NO"])
def test_no_verify_ssl_false_in_capitals_keeps_the_checks(value: str) -> None:
    context = parse_url(f"amqps://h?no_verify_ssl={value}").ssl_context()
    assert context is not None
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname


def test_the_cafile_is_loaded(tmp_path: Path) -> None:
    ca, _, _ = make_tls_files(tmp_path)
    context = parse_url(f"amqps://h?cafile={quote(str(ca))}").ssl_context()
    assert context is not None
    [subject] = _subjects(context)
    assert subject.startswith("vincent") and subject.endswith("ca")
    assert context.verify_mode == ssl.CERT_REQUIRED


def test_cadata_is_loaded(tmp_path: Path) -> None:
    ca, _, _ = make_tls_files(tmp_path)
    pem = ca.read_text()
    context = parse_url(f"amqps://h?cadata={quote(pem, safe='')}").ssl_context()
    assert context is not None and len(_subjects(context)) == 1


def test_a_client_certificate_is_loaded(tmp_path: Path) -> None:
    ca, cert, key = make_tls_files(tmp_path)
    url = f"amqps://h?auth=external&cafile={ca}&certfile={cert}&keyfile={key}"
    endpoint = parse_url(url)
    assert endpoint.credentials.mechanism == "EXTERNAL"
    assert endpoint.ssl_context() is not None


def test_missing_or_bad_tls_files_fail_when_the_context_is_made(tmp_path: Path) -> None:
    missing = parse_url(f"amqps://h?cafile={tmp_path / 'nope.pem'}")
    with pytest.raises(FileNotFoundError):
        missing.ssl_context()
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate")
    with pytest.raises(ssl.SSLError):
        parse_url(f"amqps://h?cafile={garbage}").ssl_context()
    ca, cert, _ = make_tls_files(tmp_path)
    with pytest.raises(ssl.SSLError):
        parse_url(f"amqps://h?certfile={cert}&keyfile={ca}").ssl_context()


def test_no_verify_ssl_takes_only_a_yes_or_a_no() -> None:
    assert parse_url("amqps://h/?no_verify_ssl=yes").tls_options["no_verify_ssl"] == "1"
    assert parse_url("amqps://h/?no_verify_ssl=0").tls_options["no_verify_ssl"] == "0"
    with pytest.raises(ValueError, match="no_verify_ssl"):
        parse_url("amqps://h/?no_verify_ssl=maybe")
