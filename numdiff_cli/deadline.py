"""Deadlines: work runs in a worker thread that is stopped when its time is up.

The one mechanism behind every time bound of numdiff (``compare``'s symbolic and high-precision phases, each
chunk of points, a descent, a plot). A thread rather than ``SIGALRM``: signals work on Unix, in the main thread
only. The worker is stopped at its next bytecode (CPython); numpy's calls in between are short because the work
is cut into chunks.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from numdiff_cli.errors import NumdiffError

# The time one phase of a command may take: the numerical work on one chunk of points, a whole descent, a plot.
# Within the documented limits the work is far below it; past it the phase is refused with one line.
WORK_SECONDS = 3.0
WALL_FACTOR = 10

T = TypeVar("T")


class OutOfTime(Exception):
    """Raised inside a worker thread whose time ran out, to stop it (and to the caller)."""


class TooSlow(NumdiffError):
    """A phase of a command ran past its deadline: one line naming what was too costly, exit status 2."""


class NoThread(NumdiffError):
    """No thread could be started for the work (the process's limit on threads or memory): one line, exit status 2,
    as for a failed write."""


def _stop(thread: threading.Thread) -> None:
    """Stop ``thread`` at its next bytecode (CPython), so abandoned work does not run on in the background.

    Sent again while the thread lives (for up to a second): CPython gives a thread that is being started the
    ident of the thread starting it until it runs, so an exception sent to a worker that is starting a worker of
    its own can land in the new one. An :class:`OutOfTime` that ends a thread that way is not an error
    (:func:`_quiet`).
    """
    if thread.ident is None or not hasattr(ctypes, "pythonapi"):
        thread.join(1.0)
        return
    _quiet()
    for _ in range(10):
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident), ctypes.py_object(OutOfTime))
        thread.join(0.1)
        if not thread.is_alive():
            return


@functools.cache
def _quiet() -> None:
    """A thread ended by :class:`OutOfTime` outside its work (while starting, or after its work ended) is
    reported by neither of Python's hooks: nothing went wrong, its time was up."""
    thread_hook, unraisable_hook = threading.excepthook, sys.unraisablehook

    def on_thread_error(args: Any) -> None:
        if args.exc_type is not OutOfTime:
            thread_hook(args)

    def on_unraisable(args: Any) -> None:
        if args.exc_type is not OutOfTime:
            unraisable_hook(args)

    threading.excepthook = on_thread_error
    sys.unraisablehook = on_unraisable


def in_worker(work: Callable[[], T], alive: Callable[[float], bool]) -> T:
    """``work()`` in a worker thread, while ``alive(elapsed seconds)`` holds; raises :class:`OutOfTime` otherwise.

    The thread gets a large stack (sympy recurses along the expression) and is stopped when its time runs out.
    """
    result: dict[str, Any] = {}

    def run() -> None:
        try:
            result["value"] = work()
        except BaseException as error:  # handed to the caller below, whatever it is
            result["error"] = error

    previous = threading.stack_size()
    with contextlib.suppress(ValueError, RuntimeError):  # a platform that does not let the stack size be set
        threading.stack_size(64 * 1024 * 1024)
    thread = threading.Thread(target=run, name="numdiff-worker", daemon=True)
    try:
        thread.start()
    except RuntimeError:  # no room for the large stack (a memory limit): the platform's default one
        threading.stack_size(previous)
        thread = threading.Thread(target=run, name="numdiff-worker", daemon=True)
        try:
            thread.start()
        except RuntimeError as error:
            raise NoThread(
                f"cannot start a thread for the work ({error}): this process's limit on threads or memory is reached"
            ) from None
    finally:
        threading.stack_size(previous)
    start = time.monotonic()
    while thread.is_alive():
        thread.join(0.02)
        if thread.is_alive() and not alive(time.monotonic() - start):
            _stop(thread)
            raise OutOfTime
    if "error" in result:
        raise result["error"]
    return result["value"]


def now() -> float:
    """The clock of :func:`within`: the CPU time of the process (all its threads), in seconds."""
    return time.process_time()


def within(work: Callable[[], T], what: str, until: float | None = None, hint: str = "") -> T:
    """``work()`` if it ends within :data:`WORK_SECONDS` of CPU time (or before the :func:`now` instant ``until``);
    otherwise :class:`TooSlow`, whose message says that ``what`` took too long ("<what> took over 3 s<hint>").

    The bound is CPU time, so that a loaded machine does not refuse work that fits; work that waits without
    computing is stopped after :data:`WALL_FACTOR` times as long on the wall clock.
    """
    stop = now() + WORK_SECONDS if until is None else until
    wall = WALL_FACTOR * max(0.0, stop - now())
    try:
        return in_worker(work, lambda elapsed: now() < stop and elapsed < wall)
    except OutOfTime:
        raise TooSlow(f"{what} took over {WORK_SECONDS:g} s{hint}") from None
