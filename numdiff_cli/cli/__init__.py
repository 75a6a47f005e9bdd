"""The ``numdiff`` command: the click group, and the one place where an error becomes an exit status.

Each command lives in its own module (``diff``, ``grad``, ``tangent``, ``compare``, ``matrices`` for hessian and
jacobian, ``descend``), declares its options from :mod:`numdiff_cli.cli.options` and imports numpy, sympy and
rich inside its callback, so ``--help`` and shell completion stay fast. Results and warnings go through
:mod:`numdiff_cli.cli.output`; inputs are read by :mod:`numdiff_cli.cli.inputs`.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Sequence
from typing import Any

import click

from numdiff_cli import __version__
from numdiff_cli.allocator import keep_arrays_in_heap
from numdiff_cli.cli import check, compare, descend, diff, grad, matrices, tangent
from numdiff_cli.cli.output import PipeClosed, stderr
from numdiff_cli.errors import NumdiffError


class NumdiffGroup(click.Group):
    """Maps every error to one line on stderr and an exit code: 2 bad input, 1 failed check."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        debug = "--debug" in argv[:1] or os.environ.get("NUMDIFF_DEBUG") == "1"
        # (The engine's arrays served from the heap, not from pages faulted in again for each: see allocator.)
        keep_arrays_in_heap()
        try:
            with warnings.catch_warnings():
                if not debug:
                    # numpy reports overflow, 0/0 and complex casts as RuntimeWarnings; numdiff reports
                    # non-finite results itself (null + a one-line warning), so the raw text never shows.
                    warnings.simplefilter("ignore", RuntimeWarning)
                code = super().main(argv, prog_name, complete_var, standalone_mode=False, **extra)
                # Flushed here, not at exit: a write that fails (disk full, /dev/full) is an error exit.
                sys.stdout.flush()
        except NumdiffError as error:
            stderr(f"Error: {error}")
            code = error.exit_code
        except click.ClickException as error:
            hint = ""
            if isinstance(error, click.NoSuchOption) and not error.option_name.startswith("--"):
                hint = (
                    " (for an expression that starts with '-', put the options first and the expression after"
                    " '--': numdiff diff --at 1 -- '-x**2')"
                )
            stderr(f"Error: {error.format_message()}{hint}")
            code = error.exit_code
        except click.Abort:
            stderr("Aborted.")
            code = 130
        except (PipeClosed, BrokenPipeError):
            _silence_stdout()
            code = 0
        except OSError as error:
            if debug:
                raise
            # The results could not be written (disk full, an I/O error): never success. What is still
            # buffered goes nowhere, so the interpreter's own flush at exit cannot fail a second time.
            _silence_stdout()
            where = error.filename if error.filename is not None else "the results"
            stderr(f"Error: cannot write {where}: {error.strerror or error}")
            code = 2
        except MemoryError as error:
            if debug:
                raise
            # Within the documented limits numdiff's memory is bounded; a process limited below that (ulimit -v, a
            # container) meets its limit here: one line, as for a failed write.
            detail = f" ({error})" if str(error) else ""
            stderr(f"Error: out of memory{detail}: this process's limit on memory is reached")
            code = 2
        except Exception as error:
            if debug:
                raise
            stderr(f"Error: internal error: {type(error).__name__}: {error} (run 'numdiff --debug ...' for details)")
            code = 1
        code = code if isinstance(code, int) else 0
        if standalone_mode:
            sys.exit(code)
        return code

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            # click's main turns an EPIPE OSError into exit status 1 with no message; a closed pipe is status 0,
            # whichever write met it (the results, or the text of --explain after them).
            raise PipeClosed from None


def _silence_stdout() -> None:
    """After the reader of stdout went away (``| head``), send what is left to /dev/null, quietly."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


@click.group(cls=NumdiffGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="numdiff")
@click.option("--debug", is_flag=True, help="Show a traceback for unexpected errors.")
def cli(debug: bool) -> None:
    """Numerical derivatives, gradients and tangent lines from the command line.

    Expressions use Python syntax (x**2 or x^2, sin, exp, log, sigmoid, ...); points are given with --at.
    Results go to stdout, warnings and errors to stderr.

    \b
    Examples:
      numdiff diff "x**2 + 3*x + 5" --at 2
      numdiff grad "x**2 + y**2" --at 3,4
      numdiff tangent "0.01*x**2 + 0.1*x" --at 5
      numdiff compare "exp(3*x**2)" --at 1
    """


cli.add_command(diff.diff)
cli.add_command(grad.grad)
cli.add_command(tangent.tangent)
cli.add_command(compare.compare)
cli.add_command(matrices.hessian)
cli.add_command(matrices.jacobian)
cli.add_command(descend.descend)
cli.add_command(check.check)


def main(prog_name: str | None = None) -> None:
    """Console-script entry point."""
    cli.main(prog_name=prog_name)
