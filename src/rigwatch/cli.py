"""The `rigwatch` command: serve, sentry, sim, demo, and the admin commands on the store."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import signal
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import Engine

from rigwatch.cli_export import export_app
from rigwatch.config import Settings
from rigwatch.domain.models import Role

app = typer.Typer(no_args_is_help=True, help="rigwatch: monitor and manage a mining farm.")
db_app = typer.Typer(no_args_is_help=True, help="The store: migrations.")
sentry_app = typer.Typer(no_args_is_help=True, help="Sentries: enroll, revoke, run one.")
apikey_app = typer.Typer(no_args_is_help=True, help="API keys for scripts.")
user_app = typer.Typer(no_args_is_help=True, help="People who sign in to the dashboard.")
app.add_typer(db_app, name="db")
app.add_typer(sentry_app, name="sentry")
app.add_typer(apikey_app, name="apikey")
app.add_typer(user_app, name="user")
app.add_typer(export_app, name="export")

console = Console()
err = Console(stderr=True)


def _engine(settings: Settings) -> Engine:
    from rigwatch.store.engine import make_engine, upgrade

    engine = make_engine(settings.resolved_database_url())
    upgrade(engine)
    return engine


def _fail(message: str) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}")
    return typer.Exit(code=1)


def _logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Listen address")] = None,
    port: Annotated[int | None, typer.Option(help="Listen port")] = None,
    verbose: bool = False,
) -> None:
    """Run the commander: ingest, API, live stream and dashboard."""
    import uvicorn

    from rigwatch.commander.app import create_app
    from rigwatch.commander.bootstrap import FIRST_ADMIN, ensure_admin

    _logging(verbose)
    overrides = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    settings = Settings(**overrides)  # type: ignore[arg-type]
    app_ = create_app(settings)
    password = ensure_admin(_engine(settings))
    if password:
        console.print(
            f"First start: created user [bold]{FIRST_ADMIN}[/bold] with password "
            f"[bold]{password}[/bold] (shown once; change it with `rigwatch user passwd`)."
        )
    console.print(f"rigwatch commander on http://{settings.host}:{settings.port}/")
    _tune_gc()
    uvicorn.run(
        app_, host=settings.host, port=settings.port, log_level="info" if verbose else "warning"
    )


def _tune_gc() -> None:
    """Keep the cyclic GC off the long-lived startup heap and out of the ingest hot path.

    Every ingest batch allocates thousands of short-lived objects (pydantic models, domain
    dataclasses, row dicts), so with the default thresholds the collector ran many times
    per batch and its full passes walked every module, schema and SQLAlchemy construct
    loaded at startup. Measured (bench.ingest, bench/RESULTS.md): ~17k -> 20-27k samples/s.
    Freezing moves what exists now (after the collect) out of the collector's sight; the
    larger first threshold makes young collections rarer. Objects are still collected.
    """
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 50)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration (also done at each start)."""
    settings = Settings()
    _engine(settings).dispose()
    console.print(f"store at head: {settings.resolved_database_url().split('@')[-1]}")


@sentry_app.command("add")
def sentry_add(name: str, site: Annotated[str, typer.Option(help="Site name")] = "default") -> None:
    """Create a sentry and print its one-time enrollment token."""
    from rigwatch.store import auth as store_auth
    from rigwatch.store import queries

    engine = _engine(Settings())
    with engine.begin() as conn:
        if any(r.name == name for r in queries.list_sentries(conn)):
            raise _fail(f"a sentry named {name!r} exists")
        _id, token = store_auth.create_sentry(conn, name, site=site)
        store_auth.audit(conn, "cli", "sentry.create", name)
    engine.dispose()
    console.print(f"Sentry [bold]{name}[/bold] created. Enrollment token (shown once):")
    console.print(token, soft_wrap=True, highlight=False)


@sentry_app.command("revoke")
def sentry_revoke(name: str) -> None:
    """Cut a sentry off: its credential stops working at once."""
    from rigwatch.store import auth as store_auth

    engine = _engine(Settings())
    with engine.begin() as conn:
        found = store_auth.revoke_sentry(conn, name)
        if found:
            store_auth.audit(conn, "cli", "sentry.revoke", name)
    engine.dispose()
    if not found:
        raise _fail(f"no sentry named {name!r}")
    console.print(f"Sentry [bold]{name}[/bold] revoked.")


@sentry_app.command("list")
def sentry_list() -> None:
    """Every sentry with its state."""
    from rigwatch.store import queries

    engine = _engine(Settings())
    with engine.connect() as conn:
        rows = queries.list_sentries(conn)
    engine.dispose()
    table = Table("id", "name", "site", "enrolled", "revoked", "last seen", "miners")
    for r in rows:
        table.add_row(
            str(r.id),
            r.name,
            r.site,
            str(r.enrolled),
            str(r.revoked),
            str(r.last_seen or "—"),
            str(r.miners),
        )
    console.print(table)


@apikey_app.command("create")
def apikey_create(
    name: str,
    role: Annotated[Role, typer.Option(help="What the key may do")] = Role.VIEWER,
) -> None:
    """Create an API key; send it as `Authorization: Bearer KEY`."""
    from rigwatch.store import auth as store_auth

    engine = _engine(Settings())
    with engine.begin() as conn:
        key = store_auth.create_api_key(conn, name, role)
        store_auth.audit(conn, "cli", "apikey.create", name, role.value)
    engine.dispose()
    console.print(f"API key [bold]{name}[/bold] ({role.value}), shown once:")
    console.print(key, soft_wrap=True, highlight=False)


@user_app.command("add")
def user_add(
    username: str,
    role: Annotated[Role, typer.Option(help="admin, operator or viewer")] = Role.VIEWER,
    password_file: Annotated[
        Path | None, typer.Option(help="Read the password from this file")
    ] = None,
) -> None:
    """Add a person; prints a generated password unless one is given in a file."""
    from rigwatch.store import auth as store_auth

    password = password_file.read_text().strip() if password_file else secrets.token_urlsafe(12)
    if len(password) < 8:
        raise _fail("password must have at least 8 characters")
    engine = _engine(Settings())
    with engine.begin() as conn:
        if store_auth.user_id(conn, username) is not None:
            raise _fail(f"user {username!r} exists")
        store_auth.create_user(conn, username, password, role)
        store_auth.audit(conn, "cli", "user.create", username, role.value)
    engine.dispose()
    shown = "" if password_file else f" with password [bold]{password}[/bold] (shown once)"
    console.print(f"User [bold]{username}[/bold] ({role.value}) created{shown}.")


@user_app.command("passwd")
def user_passwd(
    username: str,
    password_file: Annotated[
        Path | None, typer.Option(help="Read the password from this file")
    ] = None,
) -> None:
    """Set a new password; prints a generated one unless given in a file."""
    from rigwatch.store import auth as store_auth

    password = password_file.read_text().strip() if password_file else secrets.token_urlsafe(12)
    engine = _engine(Settings())
    with engine.begin() as conn:
        if not store_auth.set_password(conn, username, password):
            raise _fail(f"no user {username!r}")
        store_auth.audit(conn, "cli", "user.passwd", username)
    engine.dispose()
    shown = "" if password_file else f": [bold]{password}[/bold] (shown once)"
    console.print(f"Password of [bold]{username}[/bold] changed{shown}.")


@sentry_app.command("run")
def sentry_run(
    commander: Annotated[str, typer.Option(help="Commander URL, e.g. https://commander:8000")],
    token: Annotated[str | None, typer.Option(help="One-time enrollment token (first run)")] = None,
    scan: Annotated[
        list[str] | None, typer.Option(help="CIDR or range to scan; repeatable; no default")
    ] = None,
    targets: Annotated[Path | None, typer.Option(help="TOML file of miner addresses")] = None,
    interval: Annotated[float, typer.Option(help="Seconds between polls (>= 1)")] = 30.0,
    rediscover: Annotated[float, typer.Option(help="Seconds between rediscoveries")] = 600.0,
    concurrency: Annotated[int, typer.Option(help="Miners polled at once")] = 256,
    deadline: Annotated[float, typer.Option(help="Seconds one miner's poll may take")] = 10.0,
    poller: Annotated[str, typer.Option(help="auto (fast paths) or pyasic (pyasic only)")] = "auto",
    rig: Annotated[
        list[str] | None,
        typer.Option(
            help="Mining software API, SOFTWARE=URL or SOFTWARE=URL#TOKEN, e.g. "
            "xmrig=http://127.0.0.1:18080; "
            "repeatable (xmrig, xmrig-proxy, trex, lolminer, srbminer, gminer, nbminer, "
            "teamredminer)"
        ),
    ] = None,
    host_metrics: Annotated[
        bool, typer.Option(help="Report this machine (CPU, memory, disk, NVIDIA GPUs)")
    ] = False,
    host_key: Annotated[
        str | None, typer.Option(help="Name of this host (default: hostname)")
    ] = None,
    p2pool_log: Annotated[Path | None, typer.Option(help="P2Pool log file to tail")] = None,
    p2pool_api: Annotated[Path | None, typer.Option(help="P2Pool --data-api directory")] = None,
    data_dir: Annotated[
        Path, typer.Option(help="Credential and spool directory", envvar="RIGWATCH_SENTRY_DIR")
    ] = Path("./rigwatch-sentry"),
    verbose: bool = False,
) -> None:
    """Run a sentry: enroll once, discover and poll miners and rigs (and this host, and a
    P2Pool node), push batches to the commander."""
    from rigwatch.sentry.agent import run_sentry
    from rigwatch.sentry.config import SentryConfig
    from rigwatch.sentry.enrollment import EnrollmentError

    _logging(verbose)
    if poller not in ("auto", "pyasic"):
        raise _fail("--poller must be auto or pyasic")
    try:
        cfg = SentryConfig(
            commander_url=commander.rstrip("/"),
            data_dir=data_dir,
            enroll_token=token,
            scan=scan or [],
            targets_file=targets,
            interval_s=interval,
            rediscover_s=rediscover,
            concurrency=concurrency,
            deadline_s=deadline,
            poller=poller,  # type: ignore[arg-type]
            rigs=rig or [],
            host_metrics=host_metrics,
            host_key=host_key,
            p2pool_log=p2pool_log,
            p2pool_api=p2pool_api,
        )
    except ValueError as exc:
        raise _fail(str(exc)) from exc

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run_sentry(cfg, stop)

    try:
        asyncio.run(main())
    except (ValueError, EnrollmentError) as exc:
        raise _fail(str(exc)) from exc


@app.command()
def sim(
    asics: Annotated[int, typer.Option(help="Simulated ASICs (S19, S21, Whatsminer)")] = 10,
    bitaxes: Annotated[int, typer.Option(help="Simulated Bitaxe Gammas")] = 0,
    base: Annotated[str, typer.Option(help="First loopback address")] = "127.0.10.1",
    control_port: Annotated[int, typer.Option(help="Fault-control HTTP port (0: none)")] = 8899,
    seed: int = 1,
    fault: Annotated[
        list[str] | None, typer.Option(help="Scheduled fault, e.g. 3:board_drop:1@60; repeatable")
    ] = None,
    xmrig: Annotated[int, typer.Option(help="Simulated XMRig CPU rigs (HTTP API on 18080)")] = 0,
    gpu_rigs: Annotated[
        int, typer.Option(help="Simulated GPU rigs, T-Rex (4067) and lolMiner (4069) style")
    ] = 0,
    p2pool_log: Annotated[
        Path | None, typer.Option(help="Write a live simulated P2Pool log to this file")
    ] = None,
    p2pool_speed: Annotated[
        float,
        typer.Option(help="Simulated P2Pool seconds per real second (1: a share every ~3 min)"),
    ] = 1.0,
) -> None:
    """Simulated miners on loopback addresses (cgminer API on 4028, web on 80), rigs
    after them, and a P2Pool node's log."""
    from rigwatch.sim import parse_fault, run_sim

    if p2pool_speed <= 0:
        raise _fail("--p2pool-speed must be positive")
    try:
        faults = [parse_fault(f) for f in fault or []]
    except ValueError as exc:
        raise _fail(str(exc)) from exc

    async def main() -> None:
        task = asyncio.create_task(
            run_sim(
                asics,
                bitaxes,
                base,
                control_port or None,
                seed,
                faults,
                xmrig=xmrig,
                gpu_rigs=gpu_rigs,
                p2pool_log=p2pool_log,
                p2pool_speed=p2pool_speed,
                console=console,
            )
        )
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await task

    try:
        asyncio.run(main())
    except (ValueError, OSError) as exc:
        raise _fail(str(exc)) from exc


@app.command()
def demo(
    host: Annotated[str, typer.Option(help="Dashboard address")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Dashboard port")] = 8000,
    miners: Annotated[int, typer.Option(help="Simulated miners")] = 60,
    verbose: bool = False,
) -> None:
    """A commander, a simulated farm and a sentry watching it; prints the dashboard URL."""
    from rigwatch.demo import DemoOptions, run_demo

    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING)
    data_dir = Settings().data_dir / "demo"
    options = DemoOptions(host=host, port=port, miners=miners, data_dir=data_dir)
    try:
        asyncio.run(run_demo(options, console))
    except (ValueError, OSError, RuntimeError) as exc:
        raise _fail(str(exc)) from exc


def main() -> None:
    app()


if __name__ == "__main__":
    main()
