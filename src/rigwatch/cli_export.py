"""`rigwatch export csv`: the store's streaming exports to a file or standard output."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, TextIO

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from rigwatch.config import Settings
from rigwatch.store.export import ExportBy, ExportWhat

export_app = typer.Typer(no_args_is_help=True, help="Exports: samples, events, shares, payouts.")
err = Console(stderr=True)


def _date(text: str | None, default: date) -> date:
    if text is None:
        return default
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _write(out: TextIO, what: ExportWhat, by: ExportBy | None, first: date, last: date) -> int:
    """Stream the export into `out`; rows written. Progress goes to stderr."""
    from rigwatch.store.engine import make_engine, upgrade
    from rigwatch.store.export import count_rows, csv_chunks, export_rows

    engine = make_engine(Settings().resolved_database_url())
    upgrade(engine)
    written = 0
    try:
        with engine.connect() as conn:
            total = count_rows(conn, what, first, last) if by is None else None
            export = export_rows(conn, what, by, first, last)
            columns = (
                TextColumn("[progress.description]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
            )
            with Progress(*columns, console=err, transient=True) as progress:
                task = progress.add_task(f"exporting {what}", total=total)
                for chunk in csv_chunks(export):
                    out.write(chunk)
                    rows = chunk.count("\n")
                    written += rows
                    progress.advance(task, rows)
    finally:
        engine.dispose()
    return max(0, written - 1)


@export_app.command("csv")
def export_csv(
    what: Annotated[ExportWhat, typer.Option(help="What to export")] = ExportWhat.SAMPLES,
    by: Annotated[
        ExportBy | None, typer.Option(help="day or host totals; raw rows when left out")
    ] = None,
    start: Annotated[
        str | None, typer.Option("--from", help="First UTC day, YYYY-MM-DD (default: today)")
    ] = None,
    end: Annotated[
        str | None, typer.Option("--to", help="Last UTC day, YYYY-MM-DD (default: --from)")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="File (default: stdout)")
    ] = None,
) -> None:
    """Write a CSV export; streams, so memory stays flat on a year of data."""
    today = datetime.now(UTC).date()
    first = _date(start, today)
    last = _date(end, first)
    if first > last:
        raise typer.BadParameter("--from is after --to")
    if last - first > timedelta(days=3660):
        raise typer.BadParameter("a range is at most 3660 days")
    if output is None:
        rows = _write(sys.stdout, what, by, first, last)
    else:
        with output.open("w", encoding="utf-8", newline="") as handle:
            rows = _write(handle, what, by, first, last)
    err.print(
        f"{rows} row(s) of {what} from {first} to {last}" + (f" to {output}" if output else "")
    )
