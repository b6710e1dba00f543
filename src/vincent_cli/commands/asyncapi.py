"""``vincent asyncapi MODULE:OBJ``: the app's AsyncAPI 3.0.0 document."""

from __future__ import annotations

import enum
import sys
from pathlib import Path
from typing import Annotated

import typer

from vincent_cli.commands.routes import Target
from vincent_cli.exit_codes import CommandError
from vincent_cli.runtime import get_runtime

__all__ = ["DocumentFormat", "asyncapi"]


class DocumentFormat(enum.StrEnum):
    """How the document is written."""

    yaml = "yaml"
    json = "json"


def asyncapi(
    ctx: typer.Context,
    target: Target,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output-file",
            "-o",
            metavar="FILE",
            help="Write the document to FILE (default: stdout).",
            show_default=False,
        ),
    ] = None,
    document_format: Annotated[
        DocumentFormat | None,
        typer.Option(
            "--format",
            help="yaml or json (default: from FILE's extension, else yaml).",
            case_sensitive=False,
            show_default=False,
        ),
    ] = None,
    title: Annotated[
        str | None,
        typer.Option(help="info.title (default: the module name).", show_default=False),
    ] = None,
    app_version: Annotated[
        str | None,
        typer.Option(
            "--app-version",
            help="info.version (default: the module's __version__, else 0.0.0).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Write the app's AsyncAPI 3.0.0 document: a channel per key, an operation per
    listener, message schemas from the handlers' annotations, and reply objects for
    handlers that answer calls. The broker URL is shown with its password masked.

    \b
    Examples:
      vincent asyncapi examples.files:app -o asyncapi.yaml
      vincent asyncapi examples.files:app --format json | jq .operations
    """
    from vincent_cli.commands.serve import _explicit
    from vincent_cli.loading import load_app
    from vincent_core.asyncapi import asyncapi_document

    runtime = get_runtime(ctx)
    app = load_app(target)
    url, exchange = _explicit(runtime.settings())
    module = sys.modules.get(target.partition(":")[0])
    document = asyncapi_document(
        app,
        title=title or target.partition(":")[0],
        version=app_version or str(getattr(module, "__version__", "") or "0.0.0"),
        description=(getattr(module, "__doc__", None) or "").strip(),
        url=url,
        exchange=exchange,
    )
    chosen = document_format
    if chosen is None:
        suffix = output.suffix.lower() if output is not None else ""
        chosen = DocumentFormat.json if suffix == ".json" else DocumentFormat.yaml
    if chosen is DocumentFormat.json:
        import json

        text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    else:
        from vincent_cli.output.yaml import dump_yaml

        text = dump_yaml(document)
    if output is None:
        runtime.output.stdout.write(text)
        runtime.output.stdout.flush()
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"cannot write {str(output)!r}: {exc.strerror or exc}") from None
