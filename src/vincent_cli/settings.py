"""Where the broker URL, exchange and friends come from, and which source won.

Highest first:

1. flags: ``--broker``, ``--exchange`` (and ``--api`` on ``vincent queues``)
2. the context named by ``--context NAME``
3. environment: ``VINCENT_BROKER_URL`` then ``AMQP_URL``, ``VINCENT_EXCHANGE``,
   ``VINCENT_API_URL`` (and ``VINCENT_API_USER`` / ``VINCENT_API_PASSWORD``, which only the
   environment can set)
4. the context named by ``VINCENT_CONTEXT`` or by ``context = "NAME"`` in the file
5. the file: ``[tool.vincent]`` in the nearest ``pyproject.toml``, or a ``vincent.toml``
   (same keys, top level), searched from the current directory upwards
6. defaults

::

    [tool.vincent]
    url = "amqp://guest:guest@localhost:5672/"
    exchange = "vincent"

    [tool.vincent.contexts.prod]
    url = "amqps://app@rabbit.example.com/prod"
    ca = "certs/ca.pem"        # relative to the file
    cert = "certs/client.pem"
    key = "certs/client.key"

TLS files become the ``cafile``/``certfile``/``keyfile`` query parameters of an
``amqps://`` URL (what the connection reads); they are ignored for plain ``amqp://``.

A file found in a parent directory (not the current one) may belong to someone else
(a shared ``/tmp``, a checkout above the project): it cannot redirect credentials. Its
TLS files apply only to a broker URL it names itself, and :mod:`vincent_cli.management`
sends it no credentials but its own (see there).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vincent_cli.exit_codes import CommandError

__all__ = ["ConfigFile", "Flags", "Settings", "find_config", "mask", "resolve"]

DEFAULT_URL = "amqp://guest:guest@localhost:5672/"
DEFAULT_EXCHANGE = "vincent"
DEFAULT_DEAD_LETTER_QUEUE = "vincent.dead"
_KEYS = ("url", "exchange", "api", "dead_letter_queue", "ca", "cert", "key")
_TLS = {"ca": "cafile", "cert": "certfile", "key": "keyfile"}


def mask(url: str) -> str:
    """The URL with its password replaced by ``***`` (the same rule as the library)."""
    from vincent_core.config import mask_url

    return mask_url(url)


@dataclass(frozen=True, slots=True)
class Flags:
    """The global options given on the command line (``None``: not given)."""

    broker: str | None = None
    exchange: str | None = None
    context: str | None = None
    api: str | None = None


@dataclass(frozen=True, slots=True)
class ConfigFile:
    """The ``vincent`` table of a configuration file."""

    path: Path
    table: Mapping[str, Any]
    #: how the table is named in messages: ``[tool.vincent]`` or ``vincent.toml``
    section: str


@dataclass(slots=True)
class Settings:
    """The resolved settings; ``sources[name]`` says where each value came from."""

    url: str = DEFAULT_URL
    exchange: str = DEFAULT_EXCHANGE
    api: str | None = None
    dead_letter_queue: str = DEFAULT_DEAD_LETTER_QUEUE
    context: str | None = None
    ca: str | None = None
    cert: str | None = None
    key: str | None = None
    config_file: Path | None = None
    #: the configuration file was found in a parent directory, not the current one
    config_in_parent: bool = False
    api_user: str | None = None
    api_password: str | None = None
    sources: dict[str, str] = field(default_factory=dict)

    def origin(self, name: str) -> str:
        """Where setting ``name`` came from: ``flag``, ``env``, ``file``, ``parent file``
        (the configuration file, found in a parent directory) or ``default``."""
        source = self.sources.get(name, "default")
        if source.startswith(("flag ", "env ")) or source == "default":
            return source.split(" ", 1)[0]
        return "parent file" if self.config_in_parent else "file"

    @property
    def masked_url(self) -> str:
        """The broker URL, safe to print."""
        return mask(self.url)

    def rows(self) -> list[tuple[str, str, str]]:
        """(name, value, source) for ``vincent config``; the password is masked."""
        rows = [
            ("url", self.masked_url, self.sources.get("url", "default")),
            ("exchange", self.exchange, self.sources.get("exchange", "default")),
            ("api", mask(self.api) if self.api else "", self.sources.get("api", "")),
            ("api_user", self.api_user or "", self.sources.get("api_user", "")),
            (
                "api_password",
                "***" if self.api_password else "",
                self.sources.get("api_password", ""),
            ),
            (
                "dead_letter_queue",
                self.dead_letter_queue,
                self.sources.get("dead_letter_queue", "default"),
            ),
            ("context", self.context or "", self.sources.get("context", "")),
        ]
        for name in _TLS:
            value = getattr(self, name)
            if value:
                rows.append((name, value, self.sources.get(name, "")))
        rows.append(("config_file", str(self.config_file or ""), ""))
        return rows


def _load_toml(path: Path) -> dict[str, Any]:
    import tomllib

    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CommandError(f"cannot read configuration {path}: {exc}") from None


def find_config(start: Path) -> ConfigFile | None:
    """The nearest ``vincent.toml`` or ``pyproject.toml`` with ``[tool.vincent]``."""
    for directory in (start, *start.parents):
        candidate = directory / "vincent.toml"
        if candidate.is_file():
            return ConfigFile(candidate, _load_toml(candidate), "vincent.toml")
        candidate = directory / "pyproject.toml"
        if candidate.is_file():
            table = _load_toml(candidate).get("tool", {}).get("vincent")
            if isinstance(table, dict):
                return ConfigFile(candidate, table, "[tool.vincent]")
    return None


def _check_table(table: Mapping[str, Any], where: str, allowed: tuple[str, ...]) -> None:
    for name, value in table.items():
        if name not in allowed:
            raise CommandError(f"unknown key {name!r} in {where} (known: {', '.join(allowed)})")
        if name != "contexts" and not isinstance(value, str):
            raise CommandError(f"{name!r} in {where} must be a string, not {value!r}")


def _context_table(config: ConfigFile | None, name: str) -> tuple[Mapping[str, Any], str]:
    if config is None:
        raise CommandError(f"no context {name!r}: no vincent.toml or [tool.vincent] found")
    contexts = config.table.get("contexts", {})
    if not isinstance(contexts, dict) or name not in contexts:
        known = ", ".join(sorted(contexts)) if isinstance(contexts, dict) else ""
        raise CommandError(
            f"no context {name!r} in {config.path}"
            + (f"; known contexts: {known}" if known else "")
        )
    table = contexts[name]
    prefix = "[tool.vincent.contexts" if config.section.startswith("[") else "[contexts"
    where = f"{prefix}.{name}] in {config.path}"
    if not isinstance(table, dict):
        raise CommandError(f"{where} must be a table")
    _check_table(table, where, _KEYS)
    return table, where


_Layer = list[tuple[str, str, str]]  # (name, value, source), highest layer first


def _table_layer(table: Mapping[str, Any], source: str, base_dir: Path | None) -> _Layer:
    layer: _Layer = []
    for name in _KEYS:
        value = table.get(name)
        if value or (name in _EMPTY_OK and value == ""):
            if name in _TLS and base_dir is not None:
                # TLS files are relative to the file that names them, not to the cwd.
                value = str((base_dir / Path(value).expanduser()).resolve())
            layer.append((name, value, source))
    return layer


# An empty exchange is the AMQP default exchange (contract 6.1): a value, never "unset".
_EMPTY_OK = frozenset({"exchange"})


def _environment_layer(environ: Mapping[str, str]) -> _Layer:
    layer: _Layer = []
    for name, variables in (
        ("url", ("VINCENT_BROKER_URL", "AMQP_URL")),
        ("exchange", ("VINCENT_EXCHANGE",)),
        ("api", ("VINCENT_API_URL",)),
        ("api_user", ("VINCENT_API_USER",)),
        ("api_password", ("VINCENT_API_PASSWORD",)),
    ):
        for variable in variables:
            if environ.get(variable) or (name in _EMPTY_OK and variable in environ):
                layer.append((name, environ[variable], f"env {variable}"))
                break
    return layer


def _with_tls(url: str, files: Mapping[str, str]) -> str:
    if not files or not url.lower().startswith("amqps://"):
        return url
    import urllib.parse

    parts = urllib.parse.urlsplit(url)
    query = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
    for name, parameter in _TLS.items():
        if files.get(name):
            query.setdefault(parameter, files[name])
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


def resolve(
    flags: Flags,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Settings:
    """Merge every source (see the module docstring) into :class:`Settings`."""
    environ = os.environ if environ is None else environ
    here = cwd or Path.cwd()
    config = find_config(here)
    settings = Settings(
        config_file=config.path if config else None,
        config_in_parent=config is not None and config.path.parent.resolve() != here.resolve(),
    )
    base_dir = config.path.parent if config else None
    if config is not None:
        where = f"{config.section} in {config.path}"
        _check_table(config.table, where, (*_KEYS, "context", "contexts"))

    layers: list[_Layer] = [
        [
            (name, value, f"flag --{flag}")
            for name, flag, value in (
                ("url", "broker", flags.broker),
                ("exchange", "exchange", flags.exchange),
                ("api", "api", flags.api),
            )
            if value or (name in _EMPTY_OK and value is not None)
        ]
    ]
    context, context_source = flags.context, "flag --context"
    if context:
        layers.append(_table_layer(*_context_table(config, context), base_dir))
    layers.append(_environment_layer(environ))
    if not context:
        # A context chosen by the environment or the file ranks below explicit env vars.
        if environ.get("VINCENT_CONTEXT"):
            context, context_source = environ["VINCENT_CONTEXT"], "env VINCENT_CONTEXT"
        elif config is not None and config.table.get("context"):
            context, context_source = str(config.table["context"]), where
        if context:
            layers.append(_table_layer(*_context_table(config, context), base_dir))
    if config is not None:
        layers.append(_table_layer(config.table, where, base_dir))

    for layer in layers:
        for name, value, source in layer:
            if name not in settings.sources:
                setattr(settings, name, value)
                settings.sources[name] = source
    if context:
        settings.context = context
        settings.sources["context"] = context_source
    tls: dict[str, str] = {}
    for name in _TLS:
        value = getattr(settings, name)
        if not value:
            continue
        if settings.origin(name) == "parent file" and settings.origin("url") != "parent file":
            # A parent directory's file must not slip its CA under a URL it did not give.
            settings.sources[name] += " (ignored: the broker URL comes from elsewhere)"
            continue
        tls[name] = str(value)
    settings.url = _with_tls(settings.url, tls)
    return settings
