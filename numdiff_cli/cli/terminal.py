"""What is shown only to a person at a terminal: the progress display of a long run (on stderr, with a percentage
when the total is known) and the small text plots drawn after the rows.

Kept apart from :mod:`numdiff_cli.cli.output` (which shows the progress, and prints warnings above it) because it is
the part of the output that depends on the terminal rather than on the rows.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import Any

import click

from numdiff_cli import contract

PROGRESS_AFTER = 0.5  # seconds


class Progress:
    """A rich progress display on stderr for long runs, only when stderr is a terminal.

    It appears once a run has taken :data:`PROGRESS_AFTER` seconds (short runs never show it) and is removed
    when the run ends, so it never mixes with results, which go to stdout.
    """

    live_console: Any = None  # the stderr console while a display is shown

    def __init__(self, total: int | None = None) -> None:
        self.total = total
        self.points = 0
        self.started = time.monotonic()
        self.enabled = sys.stderr.isatty() and not os.environ.get("NUMDIFF_NO_PROGRESS")
        self.live: Any = None
        self.task: Any = None

    def advance(self, count: int) -> None:
        self.points += count
        if not self.enabled:
            return
        if self.live is None:
            if time.monotonic() - self.started < PROGRESS_AFTER:
                return
            from rich.console import Console
            from rich.progress import BarColumn, TaskProgressColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn
            from rich.progress import Progress as RichProgress

            columns: tuple[Any, ...] = (BarColumn(), TextColumn("{task.completed:,} points"), TimeElapsedColumn())
            if self.total is not None:
                # Determinate: the share done, and the time left.
                columns = (
                    BarColumn(),
                    TaskProgressColumn(),
                    TextColumn("{task.completed:,}/{task.total:,} points"),
                    TimeElapsedColumn(),
                    TimeRemainingColumn(),
                )
            console = Console(stderr=True)
            # No redirection: rich would otherwise route sys.stdout, where the results go, through the display.
            self.live = RichProgress(
                *columns,
                console=console,
                transient=True,
                redirect_stdout=False,
                redirect_stderr=False,
                refresh_per_second=4,
            )
            self.task = self.live.add_task("points", total=self.total)
            self.live.start()
            Progress.live_console = console
        self.live.update(self.task, completed=self.points)

    def stop(self) -> None:
        if self.live is not None:
            self.live.stop()
            self.live = None
            Progress.live_console = None


def terminal_plots(fmt: str) -> bool:
    """Text plots only for a person at a terminal: never in a pipe or a file, never with plain/json/csv."""
    return fmt in ("auto", "table") and sys.stdout.isatty()


def run_then_draw(run: Callable[[], None], draw: Callable[[], str], fmt: str) -> None:
    """``run()``, then on a terminal the small text plot ``draw()`` (also after a failed check or a warning)."""
    try:
        run()
    except click.exceptions.Exit as exit_:
        if exit_.exit_code in (contract.EXIT_FAILED, contract.EXIT_UNVOUCHED) and terminal_plots(fmt):
            click.echo("\n" + draw())
        raise
    if terminal_plots(fmt):
        click.echo("\n" + draw())
