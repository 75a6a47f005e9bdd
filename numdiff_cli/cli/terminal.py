"""The progress display of a long run: on stderr, only on a terminal, with a percentage when the total is known.

Kept apart from :mod:`numdiff_cli.cli.output` (which shows it, and prints warnings above it) because it is the one
part of the output that is about time rather than rows.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

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
