"""``vincent serve MODULE:OBJ``: run the app's workers."""

from __future__ import annotations

import enum
import logging
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from vincent_cli.commands.routes import Target
from vincent_cli.exit_codes import CommandError
from vincent_cli.logs import LogFormat, configure_logging
from vincent_cli.runtime import get_runtime, run_async
from vincent_cli.settings import Settings

__all__ = ["LogLevel", "serve"]


class LogLevel(enum.StrEnum):
    """``--log-level``."""

    debug = "debug"
    info = "info"
    warning = "warning"
    error = "error"


def _explicit(settings: Settings) -> tuple[str | None, str | None]:
    # The app's own Vincent(url=..., exchange=...) stands unless something overrode it.
    url = settings.url if "url" in settings.sources else None
    exchange = settings.exchange if "exchange" in settings.sources else None
    return url, exchange


def serve(
    ctx: typer.Context,
    target: Target,
    workers: Annotated[
        int, typer.Option("--workers", "-w", metavar="N", min=1, help="Worker processes to run.")
    ] = 1,
    reload: Annotated[
        bool, typer.Option("--reload", help="Restart the workers when a Python file changes.")
    ] = False,
    reload_dir: Annotated[
        list[Path] | None,
        typer.Option(
            "--reload-dir",
            metavar="DIR",
            help="Directory to watch with --reload (repeatable; default: the current one).",
            show_default=False,
        ),
    ] = None,
    concurrency: Annotated[
        int | None,
        typer.Option(
            "--concurrency",
            "-c",
            metavar="N",
            min=1,
            help="Messages handled at once per process.",
            show_default=False,
        ),
    ] = None,
    log_level: Annotated[
        LogLevel, typer.Option("--log-level", help="Logging threshold.", case_sensitive=False)
    ] = LogLevel.info,
    grace: Annotated[
        float,
        typer.Option(
            "--grace",
            metavar="SECONDS",
            min=0,
            help="Seconds in-flight messages get to finish on stop.",
        ),
    ] = 30.0,
    log_format: Annotated[
        LogFormat,
        typer.Option(
            "--log-format",
            help="auto: rich on a terminal, plain otherwise; json: one object per line.",
            case_sensitive=False,
        ),
    ] = LogFormat.auto,
    metrics_port: Annotated[
        int | None,
        typer.Option(
            "--metrics-port",
            metavar="PORT",
            min=0,
            max=65535,
            help="Serve Prometheus /metrics and /healthz on PORT (worker i of --workers N: "
            "PORT+i-1), on 127.0.0.1 unless --metrics-host. Needs prometheus-client.",
            show_default=False,
        ),
    ] = None,
    metrics_host: Annotated[
        str,
        typer.Option(
            "--metrics-host",
            metavar="HOST",
            help="Address for --metrics-port (0.0.0.0: every interface).",
        ),
    ] = "127.0.0.1",
) -> None:
    """Run the app's listeners until SIGTERM or SIGINT, then stop gracefully.

    On the first signal the workers stop consuming and in-flight messages get --grace
    seconds to finish (unfinished ones go back to their queue); a second signal stops at
    once. With --workers N the CLI runs and supervises N processes (restarting any that
    dies); --reload restarts them all when a Python file changes, with any --workers.

    \b
    Examples:
      vincent serve examples.files:app
      vincent serve myapp:app --workers 4 --concurrency 16
      vincent serve myapp:app --reload
      vincent serve myapp:app --workers 2 --metrics-port 9100 --log-format json
    """
    from vincent_cli.loading import parse_target

    runtime = get_runtime(ctx)
    settings = runtime.settings()
    parse_target(target)
    concrete = configure_logging(log_level.value, log_format)
    if workers == 1 and not reload:
        _serve_here(target, settings, concurrency, grace, metrics_port, metrics_host)
        return
    if metrics_port == 0 and workers > 1:
        raise CommandError("--metrics-port 0 (any free port) needs --workers 1")
    from vincent_cli.supervisor import Supervisor

    command = [sys.executable, "-m", "vincent_cli", "serve", target]
    command += ["--log-level", log_level.value, "--grace", repr(grace)]
    # The supervisor's own choice, so workers log alike even if their stderr differs.
    command += ["--log-format", concrete.value]
    if concurrency is not None:
        command += ["--concurrency", str(concurrency)]
    if metrics_port is not None:
        command += ["--metrics-host", metrics_host]
    env = dict(os.environ)
    url, exchange = _explicit(settings)
    # Through the environment, not argv: a password must not show in `ps`.
    if url is not None:
        env["VINCENT_BROKER_URL"] = url
    if exchange is not None:
        env["VINCENT_EXCHANGE"] = exchange
    paths = (reload_dir or [Path.cwd()]) if reload else []
    supervisor = Supervisor(
        command, env, workers, grace, reload_paths=paths, metrics_port=metrics_port
    )
    raise typer.Exit(run_async(supervisor.run()))


def _serve_here(
    target: str,
    settings: Settings,
    concurrency: int | None,
    grace: float,
    metrics_port: int | None,
    metrics_host: str,
) -> None:
    from vincent_cli.loading import load_app, user_code_error
    from vincent_cli.supervisor import die_with_parent
    from vincent_core.errors import VincentError

    die_with_parent()
    app = load_app(target)
    url, exchange = _explicit(settings)
    server = None
    if metrics_port is not None:
        # Imported only here: without --metrics-port, prometheus_client is never loaded.
        from vincent_core.metrics import MetricsServer, app_health

        server = MetricsServer(metrics_port, host=metrics_host, health=app_health(app)).start()
        shown = f"[{metrics_host}]" if ":" in metrics_host else metrics_host
        logging.getLogger("vincent.serve").info(
            "metrics on http://%s:%d/metrics, health on /healthz", shown, server.port
        )
    try:
        app.run(url=url, exchange=exchange, concurrency=concurrency, grace=grace)
    except VincentError:
        raise
    except Exception as exc:
        # An on_start hook of the app raised: the user's traceback, exit 2 (on_stop
        # hooks are only logged by the app).
        raise user_code_error(exc, f"serving {target}") from None
    finally:
        if server is not None:
            server.stop()
