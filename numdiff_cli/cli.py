"""The ``numdiff`` command: click commands only.

Each command parses its options, calls the layers below (expr -> points -> engine -> render), writes results
to stdout and diagnostics to stderr. Errors are mapped to exit codes in one place, :meth:`NumdiffGroup.main`.
numpy, sympy and rich are imported inside the commands, so ``--help`` and shell completion stay fast.
"""

from __future__ import annotations

import math
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import click

from numdiff_cli import __version__
from numdiff_cli.errors import NumdiffError, OptionError

if TYPE_CHECKING:
    import numpy as np

    from numdiff_cli.engine import Estimate
    from numdiff_cli.expr import Expression
    from numdiff_cli.points import Chunk

# Kept here (not imported from engine/render) so that --help does not import numpy; a test checks they agree.
METHODS = ("auto", "central", "forward", "backward", "complex")
FORMATS = ("auto", "table", "plain", "json", "csv")
MAX_WARNINGS = 20
PROGRESS_AFTER = 0.5  # seconds


class StepType(click.ParamType):
    name = "STEP"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        if isinstance(value, float):
            return value
        try:
            step = float(value)
        except ValueError:
            self.fail(f"{value!r} is not a number (write e.g. 1e-4)", param, ctx)
        if not math.isfinite(step) or step <= 0:
            self.fail(f"{value!r} must be a positive finite number", param, ctx)
        return step


class NamesType(click.ParamType):
    name = "NAMES"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> tuple[str, ...]:
        if isinstance(value, tuple):
            return value
        names = tuple(part.strip() for part in str(value).split(",") if part.strip())
        if not names:
            self.fail("give variable names separated by commas, e.g. x,y,z", param, ctx)
        if len(set(names)) != len(names):
            self.fail(f"a name is repeated in {value!r}", param, ctx)
        return names


# Options shared by several commands, declared once.
AT = click.option(
    "--at",
    "at",
    multiple=True,
    metavar="POINT",
    help="Point: 2, pi/4, x=1,y=2 or 1,2 (variable order), [[1,2],[3,4]] for matrix variables. "
    "Repeat for several points; '-' reads one point per line from standard input.",
)
RANGE = click.option(
    "--range", "range_text", metavar="START:STOP:NUM", help="NUM evenly spaced points, both ends included."
)
VARS = click.option(
    "--vars", "var_order", type=NamesType(), help="Variable order, e.g. x,y,z (default: natural order)."
)
METHOD = click.option(
    "--method",
    type=click.Choice(METHODS),
    default="auto",
    show_default=True,
    help="auto: adaptive Richardson extrapolation with an error estimate; central/forward/backward: one "
    "finite difference; complex: complex step (analytic expressions only).",
)
STEP = click.option(
    "--h", "step", type=StepType(), help="Step for central/forward/backward/complex (default: scaled to the point)."
)
ORDER = click.option("--order", type=click.IntRange(1, 4), default=1, show_default=True, help="Derivative order.")
WRT = click.option("--wrt", metavar="NAME", help="Variable to differentiate by (a partial derivative).")
FORMAT = click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="auto",
    show_default=True,
    help="auto: a table on a terminal, plain otherwise; json: JSON Lines; csv: with a header row.",
)

NO_CACHE = click.option(
    "--no-cache",
    is_flag=True,
    help="Do not read or write the per-user cache of compiled expressions (also: NUMDIFF_NO_CACHE=1).",
)


class PipeClosed(Exception):
    """The reader of stdout went away (``numdiff ... | head -1``). Not an OSError, so click leaves it to us."""


def _stderr(message: str) -> None:
    if _Progress.live_console is not None:
        # Printed above the progress display, which rich then redraws below it.
        _Progress.live_console.print(message, markup=False, highlight=False, emoji=False, soft_wrap=True)
        return
    click.echo(message, err=True)


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
        try:
            with warnings.catch_warnings():
                if not debug:
                    # numpy reports overflow, 0/0 and complex casts as RuntimeWarnings; numdiff reports
                    # non-finite results itself (null + a one-line warning), so the raw text never shows.
                    warnings.simplefilter("ignore", RuntimeWarning)
                code = super().main(argv, prog_name, complete_var, standalone_mode=False, **extra)
        except NumdiffError as error:
            _stderr(f"Error: {error}")
            code = error.exit_code
        except click.ClickException as error:
            hint = ""
            if isinstance(error, click.NoSuchOption) and not error.option_name.startswith("--"):
                hint = (
                    " (for an expression that starts with '-', put the options first and the expression after"
                    " '--': numdiff diff --at 1 -- '-x**2')"
                )
            _stderr(f"Error: {error.format_message()}{hint}")
            code = error.exit_code
        except click.Abort:
            _stderr("Aborted.")
            code = 130
        except (PipeClosed, BrokenPipeError):
            _silence_stdout()
            code = 0
        except Exception as error:
            if debug:
                raise
            _stderr(f"Error: internal error: {type(error).__name__}: {error} (run 'numdiff --debug ...' for details)")
            code = 1
        code = code if isinstance(code, int) else 0
        if standalone_mode:
            sys.exit(code)
        return code


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


# ---------------------------------------------------------------------------------------------------------------
# Shared machinery


@dataclass
class Block:
    """The results for one chunk of points.

    Rows are built only when the output format needs them: ``plain`` output of a million points must not pay
    for a million dicts. ``warnings`` lists exactly the rows that carry a warning, with the point they are
    about, so the exit status and the stderr messages never need the rows either.
    """

    count: int
    row: Callable[[int], dict[str, Any]]  # row i with the contract's keys (a "warning" key is added from warnings)
    plain: Callable[[], list[str]]
    warnings: dict[int, tuple[str, Any]]  # row index -> (message, point)
    bad: set[int] = field(default_factory=set)  # rows from unreadable input lines
    fast: dict[str, Callable[[Block], list[str]]] = field(default_factory=dict)  # format -> its lines, vectorized

    @classmethod
    def of_rows(cls, rows: list[dict[str, Any]], plain: list[str]) -> Block:
        """A block from rows built eagerly (each with a "warning" key where needed)."""
        warnings = {index: (row["warning"], row.get("at")) for index, row in enumerate(rows) if "warning" in row}
        return cls(len(rows), rows.__getitem__, lambda: plain, warnings)

    def full_row(self, index: int) -> dict[str, Any]:
        row = self.row(index)
        if index in self.warnings:
            row["warning"] = self.warnings[index][0]
        return row

    def rows(self) -> list[dict[str, Any]]:
        return [self.full_row(index) for index in range(self.count)]


class Writer:
    """Writes blocks of rows in the chosen format and works out the exit status."""

    def __init__(self, fmt: str, keys: Sequence[str], title: str):
        if fmt == "auto":
            fmt = "table" if sys.stdout.isatty() else "plain"
        self.fmt = fmt
        self.keys = keys
        self.title = title
        self.table_rows: list[dict[str, Any]] = []
        self.header = True
        self.warnings = 0
        self.status = 0

    def write(self, block: Block) -> None:
        from numdiff_cli import render

        for index in sorted(block.warnings):
            message, at = block.warnings[index]
            self.status = max(self.status, 2 if index in block.bad else 1)
            self.warn(message, at)
        if self.fmt == "plain":
            text = "\n".join(block.plain())
        elif self.fmt == "json":
            if "json" in block.fast:
                text = "\n".join(block.fast["json"](block))
            else:
                text = "\n".join(render.json_line(row) for row in block.rows())
        elif self.fmt == "csv":
            lines = (
                block.fast["csv"](block) if "csv" in block.fast else [render.csv_lines(block.rows(), self.keys, False)]
            )
            if self.header:
                lines.insert(0, render.csv_lines([], self.keys, True))
                self.header = False
            text = "".join(line if line.endswith("\n") else line + "\n" for line in lines).rstrip("\n")
        else:
            self.table_rows.extend(block.rows())
            return
        if text:
            try:
                sys.stdout.write(text + "\n")
                sys.stdout.flush()
            except BrokenPipeError:
                raise PipeClosed from None

    def warn(self, message: str, at: Any) -> None:
        self.warnings += 1
        if self.warnings <= MAX_WARNINGS:
            prefix = "Error" if message.startswith("line ") else "Warning"
            where = "" if message.startswith("line ") else f"at {_describe(at)}: "
            _stderr(f"{prefix}: {where}{message}")

    def close(self) -> int:
        if self.warnings > MAX_WARNINGS:
            _stderr(f"Warning: {self.warnings - MAX_WARNINGS} more warnings not shown")
        if self.fmt == "table":
            from rich.console import Console

            from numdiff_cli import render

            try:
                console = Console(file=sys.stdout, highlight=False)
                table = render.table(self.table_rows, self.keys, self.title)
                # Never truncate digits: wider than the terminal, the terminal wraps the lines instead.
                needed = console.measure(table, options=console.options.update_width(100_000)).maximum
                console.width = max(console.width, needed)
                console.print(table)
            except BrokenPipeError:
                raise PipeClosed from None
        return self.status


def _describe(at: Any) -> str:
    from numdiff_cli.render import clean, number

    at = clean(at)
    if isinstance(at, dict):
        return ",".join(f"{name}={number(value)}" for name, value in at.items())
    return number(at)


def _run(chunks: Iterator[Chunk], compute: Callable[[Chunk], Block], fmt: str, keys: Sequence[str], title: str) -> None:
    writer = Writer(fmt, keys, title)
    progress = _Progress()
    try:
        for chunk in chunks:
            writer.write(compute(chunk))
            progress.advance(chunk.values.shape[1])
    finally:
        progress.stop()
    status = writer.close()
    if status:
        raise click.exceptions.Exit(status)


class _Progress:
    """A rich progress display on stderr for long runs, only when stderr is a terminal.

    It appears once a run has taken :data:`PROGRESS_AFTER` seconds (short runs never show it) and is removed
    when the run ends, so it never mixes with results, which go to stdout.
    """

    live_console: Any = None  # the stderr console while a display is shown

    def __init__(self) -> None:
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
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            columns = (BarColumn(), TextColumn("{task.completed:,} points"), TimeElapsedColumn())
            console = Console(stderr=True)
            # No redirection: rich would otherwise route sys.stdout, where the results go, through the display.
            self.live = Progress(
                *columns,
                console=console,
                transient=True,
                redirect_stdout=False,
                redirect_stderr=False,
                refresh_per_second=4,
            )
            self.task = self.live.add_task("points", total=None)
            self.live.start()
            _Progress.live_console = console
        self.live.update(self.task, completed=self.points)

    def stop(self) -> None:
        if self.live is not None:
            self.live.stop()
            self.live = None
            _Progress.live_console = None


def _expression(text: str, var_order: tuple[str, ...] | None, no_cache: bool) -> Expression:
    """The parsed expression, compiled to numpy code; from the per-user cache when possible (no sympy then)."""
    from numdiff_cli import cache
    from numdiff_cli.compiled import compile_text

    expression: Any = compile_text(text, cache.enabled(no_cache))
    if var_order is not None:
        expression = expression.reordered(var_order)
    return expression


def _points(expression: Expression, at: Sequence[str], range_text: str | None) -> Iterator[Chunk]:
    from numdiff_cli.points import point_chunks

    if not at and range_text is None:
        raise OptionError("no points: give --at POINT (repeatable), --at - for standard input, or --range")
    return point_chunks(at, range_text, expression.names, expression.shapes, sys.stdin)


def _at(expression: Expression, column: np.ndarray) -> Any:
    if len(expression.names) == 1 and not expression.shapes:
        return float(column[0])
    return dict(zip(expression.names, column.tolist()))


def _check_method(expression: Expression, method: str, order: int) -> None:
    if method == "complex":
        if not expression.analytic:
            raise OptionError(
                "--method complex needs an analytic expression; abs, sign, step, relu and similar functions"
                " are not (use --method auto or central)"
            )
        if order != 1:
            raise OptionError("--method complex computes first derivatives only; use --order 1 or another method")


def _warning(estimate: Estimate, index: Any) -> str | None:
    from numdiff_cli.engine import OK, STATUS_MESSAGES

    code = int(estimate.status[index])
    return None if code == OK else STATUS_MESSAGES[code]


def _mark_bad(chunk: Chunk, block: Block, per_point: int = 1) -> Block:
    """Rows that come from unreadable input lines carry the line's message instead of a result."""
    for column, message in chunk.problems.items():
        for row_index in range(column * per_point, (column + 1) * per_point):
            block.warnings[row_index] = (message, None)
            block.bad.add(row_index)
    return block


def _single_variable(expression: Expression, wrt: str | None) -> tuple[Expression, str]:
    if wrt is not None:
        expression = expression.with_variable(wrt)
        return expression, wrt
    if not expression.names:
        return expression.with_variable("x"), "x"
    if len(expression.names) > 1:
        shown = ", ".join(expression.names[:6])
        raise OptionError(f"the expression has several variables ({shown}); choose one with --wrt")
    return expression, expression.names[0]


def _derivative(
    expression: Expression, X: np.ndarray, var: str, order: int, method: str, step: float | None
) -> Estimate:
    from numdiff_cli import engine

    function = expression.function
    if X.shape[0] == 1:
        return engine.derivative(
            lambda x: function(x[None]), X[0], order=order, method=method, step=step, check_step=True, check_kink=True
        )
    index = expression.names.index(var)
    return engine.partial(
        function, X, index=index, order=order, method=method, step=step, check_step=True, check_kink=True
    )


# ---------------------------------------------------------------------------------------------------------------
# Commands

DIFF_KEYS = ("expr", "var", "at", "order", "method", "h", "derivative", "error")


@cli.command()
@click.argument("expr")
@AT
@RANGE
@WRT
@ORDER
@METHOD
@STEP
@VARS
@FORMAT
@NO_CACHE
def diff(
    expr: str,
    at: tuple[str, ...],
    range_text: str | None,
    wrt: str | None,
    order: int,
    method: str,
    step: float | None,
    var_order: tuple[str, ...] | None,
    fmt: str,
    no_cache: bool,
) -> None:
    """Derivative of EXPR (any order; partial with --wrt) at one or many points.

    \b
    Examples:
      numdiff diff "x**2 + 3*x + 5" --at 2
      numdiff diff "x**2 + 3*x + 5" --at 2 --method central --h 1e-4
      numdiff diff "x^3" --at 2 --order 2
      numdiff diff "x0*x0 + x1*x1" --wrt x0 --at x0=3,x1=4
      seq 1 5 | numdiff diff "x**2" --at -
    """
    expression, var = _single_variable(_expression(expr, var_order, no_cache), wrt)
    _check_method(expression, method, order)

    def compute(chunk: Chunk) -> Block:
        estimate = _derivative(expression, chunk.values, var, order, method, step)
        X = chunk.values

        def row(j: int) -> dict[str, Any]:
            return {
                "expr": expr,
                "var": var,
                "at": _at(expression, X[:, j]),
                "order": order,
                "method": estimate.method,
                "h": float(estimate.step[j]),
                "derivative": float(estimate.value[j]),
                "error": float(estimate.error[j]),
            }

        block = Block(
            X.shape[1], row, lambda: list(map(repr, estimate.value.tolist())), _warnings(expression, X, estimate)
        )
        if len(expression.names) == 1 and not expression.shapes:
            block.fast["json"] = lambda block: _diff_json(block, expr, var, order, X[0], estimate)
            block.fast["csv"] = lambda block: _diff_csv(block, expr, var, order, X[0], estimate)
        return _mark_bad(chunk, block)

    _run(_points(expression, at, range_text), compute, fmt, DIFF_KEYS, f"d{_order_mark(order)}/d{var} {expr}")


def _warnings(expression: Expression, X: np.ndarray, estimate: Estimate) -> dict[int, tuple[str, Any]]:
    """Row index -> (message, point) for the points whose status is not OK (found without a loop over points)."""
    import numpy as np

    from numdiff_cli.engine import OK, STATUS_MESSAGES

    return {
        int(j): (STATUS_MESSAGES[int(estimate.status[j])], _at(expression, X[:, j]))
        for j in np.flatnonzero(estimate.status != OK)
    }


def _numbers(values: np.ndarray, missing: str) -> list[str]:
    """``repr`` of each float, ``missing`` for the non-finite ones: the numbers of a JSON or CSV line."""
    import numpy as np

    if np.isfinite(values).all():
        return list(map(repr, values.tolist()))
    return [repr(v) if math.isfinite(v) else missing for v in values.tolist()]


def _diff_json(block: Block, expr: str, var: str, order: int, at: np.ndarray, estimate: Estimate) -> list[str]:
    """The JSON lines of ``diff`` for a univariate expression, the same text as ``render.json_line`` gives,
    built from whole columns; rows with a warning go through ``render.json_line``."""
    from numdiff_cli.render import json_line

    head = json_line({"expr": expr, "var": var})[:-1] + ', "at": '
    middle = ", " + json_line({"order": order, "method": estimate.method})[1:-1] + ', "h": '
    columns = zip(
        _numbers(at, "null"),
        _numbers(estimate.step, "null"),
        _numbers(estimate.value, "null"),
        _numbers(estimate.error, "null"),
    )
    lines = []
    for j, (a, h, d, e) in enumerate(columns):
        if j in block.warnings:
            lines.append(json_line(block.full_row(j)))
        else:
            lines.append(f'{head}{a}{middle}{h}, "derivative": {d}, "error": {e}}}')
    return lines


def _diff_csv(block: Block, expr: str, var: str, order: int, at: np.ndarray, estimate: Estimate) -> list[str]:
    """The CSV rows of ``diff`` for a univariate expression, as ``render.csv_lines`` writes them."""
    from numdiff_cli.render import csv_lines

    keys = ("expr", "var")
    head = csv_lines([{"expr": expr, "var": var}], keys, False).rstrip("\n")[: -len(",")] + ","
    method = csv_lines([{"order": order, "method": estimate.method}], ("order", "method"), False).rstrip("\n")
    method = method[: -len(",")]
    columns = zip(
        _numbers(at, ""), _numbers(estimate.step, ""), _numbers(estimate.value, ""), _numbers(estimate.error, "")
    )
    lines = []
    for j, (a, h, d, e) in enumerate(columns):
        if j in block.warnings:
            lines.append(csv_lines([block.full_row(j)], DIFF_KEYS, False).rstrip("\n"))
        else:
            lines.append(f"{head}{a},{method},{h},{d},{e},")
    return lines


def _order_mark(order: int) -> str:
    return "" if order == 1 else "^" + str(order)


GRAD_KEYS = ("expr", "vars", "at", "gradient", "error")


@cli.command()
@click.argument("expr")
@AT
@METHOD
@STEP
@VARS
@FORMAT
@NO_CACHE
def grad(
    expr: str,
    at: tuple[str, ...],
    method: str,
    step: float | None,
    var_order: tuple[str, ...] | None,
    fmt: str,
    no_cache: bool,
) -> None:
    """Gradient of a multivariable EXPR, in variable order (or in the shape of a matrix variable).

    \b
    Examples:
      numdiff grad "x0**2 + 5*x1 + 2*x2**2" --at 3,2,1
      numdiff grad "x[0]**2 + x[1]**2" --at 3,4 --at 0,2
      numdiff grad "W[0,0]*W[1,1] - W[0,1]*W[1,0]" --at "[[1,2],[3,4]]"
      numdiff grad "x*y" --at x=2,y=3 --format json
    """
    import numpy as np

    from numdiff_cli import engine

    expression = _expression(expr, var_order, no_cache)
    if not expression.names:
        raise OptionError("the expression has no variables; name them with --vars to get a zero gradient")
    _check_method(expression, method, 1)
    shape = _gradient_shape(expression)

    def compute(chunk: Chunk) -> Block:
        X = chunk.values
        estimate = engine.gradient(expression.function, X, method=method, step=step, check_step=True)

        def row(j: int) -> dict[str, Any]:
            values, errors = estimate.value[:, j], estimate.error[:, j]
            return {
                "expr": expr,
                "vars": list(expression.names),
                "at": _at(expression, X[:, j]),
                "gradient": values.reshape(shape).tolist(),
                "error": None if np.isnan(errors).all() else errors.reshape(shape).tolist(),
            }

        def plain() -> list[str]:
            return [" ".join(map(repr, values)) for values in estimate.value.T.tolist()]

        flagged: dict[int, tuple[str, Any]] = {}
        for j in np.flatnonzero((estimate.status != engine.OK).any(axis=0)).tolist():
            flagged[j] = (_first_warning(estimate, j) or "", _at(expression, X[:, j]))
        return _mark_bad(chunk, Block(X.shape[1], row, plain, flagged))

    _run(_points(expression, at, None), compute, fmt, GRAD_KEYS, f"grad {expr}")


def _gradient_shape(expression: Expression) -> tuple[int, ...]:
    """A single matrix variable (and nothing else) gives its gradient in the matrix's shape."""
    if len(expression.shapes) == 1:
        (shape,) = expression.shapes.values()
        if len(shape) > 1 and math.prod(shape) == len(expression.names):
            return shape
    return (len(expression.names),)


def _first_warning(estimate: Estimate, j: int) -> str | None:
    for d in range(estimate.status.shape[0]):
        if warning := _warning(estimate, (d, j)):
            return warning
    return None


TANGENT_KEYS = ("expr", "at", "value", "slope", "intercept", "equation")
PLANE_KEYS = ("expr", "at", "value", "gradient", "equation")


@cli.command()
@click.argument("expr")
@AT
@METHOD
@STEP
@VARS
@FORMAT
@NO_CACHE
def tangent(
    expr: str,
    at: tuple[str, ...],
    method: str,
    step: float | None,
    var_order: tuple[str, ...] | None,
    fmt: str,
    no_cache: bool,
) -> None:
    """Tangent line of EXPR at a point (the tangent plane for several variables).

    \b
    Examples:
      numdiff tangent "0.01*x**2 + 0.1*x" --at 5
      numdiff tangent "x**2 + y**2" --at 1,2 --format json
    """
    from numdiff_cli import engine
    from numdiff_cli.render import short

    expression = _expression(expr, var_order, no_cache)
    if not expression.names:
        expression = expression.with_variable("x")
    _check_method(expression, method, 1)
    names = expression.names
    univariate = len(names) == 1 and not expression.shapes

    def compute(chunk: Chunk) -> Block:
        X = chunk.values
        values = expression.function(X)
        estimate = engine.gradient(expression.function, X, method=method, step=step, check_step=True)
        rows, plain = [], []
        for j in range(X.shape[1]):
            value = float(values[j])
            slopes = estimate.value[:, j].tolist()
            finite = math.isfinite(value) and all(math.isfinite(s) for s in slopes)
            row: dict[str, Any] = {"expr": expr, "at": _at(expression, X[:, j]), "value": value}
            if univariate:
                intercept = value - slopes[0] * float(X[0, j])
                lhs = "y" if names[0] != "y" else "f"
                equation = f"{lhs} = {short(slopes[0])}*{names[0]} {_signed(intercept)}" if finite else "nan"
                row.update(slope=slopes[0], intercept=intercept, equation=equation)
            else:
                lhs = next(n for n in ("z", "f", "value") if n not in names)
                terms = " ".join(
                    f"+ {short(s)}*({n} {_signed(-a)})" for n, s, a in zip(names, slopes, X[:, j].tolist())
                )
                equation = f"{lhs} = {short(value)} {terms}" if finite else "nan"
                row.update(gradient=slopes, equation=equation)
            warning = _first_warning(estimate, j) or (
                None if math.isfinite(value) else "the function is not finite here"
            )
            if warning:
                row["warning"] = warning
            rows.append(row)
            plain.append(equation)
        return _mark_bad(chunk, Block.of_rows(rows, plain))

    keys = TANGENT_KEYS if univariate else PLANE_KEYS
    _run(_points(expression, at, None), compute, fmt, keys, f"tangent of {expr}")


def _signed(value: float) -> str:
    """``+ 0.25`` or ``- 0.25``: a term of an equation."""
    from numdiff_cli.render import short

    text = short(abs(value)) if math.isfinite(value) else "nan"
    return f"- {text}" if value < 0 else f"+ {text}"


COMPARE_KEYS = ("expr", "at", "analytic_expr", "analytic", "numeric", "abs_error", "rel_error", "method", "h")


@cli.command()
@click.argument("expr")
@AT
@RANGE
@WRT
@ORDER
@click.option(
    "--method",
    type=click.Choice(METHODS + ("all",)),
    default="auto",
    show_default=True,
    help="Numerical method to check, or 'all' for one row per method.",
)
@STEP
@click.option("--tol", type=StepType(), help="Exit 1 if any absolute error exceeds this.")
@click.option("--rtol", type=StepType(), help="Exit 1 if any relative error exceeds this.")
@VARS
@FORMAT
@NO_CACHE
def compare(
    expr: str,
    at: tuple[str, ...],
    range_text: str | None,
    wrt: str | None,
    order: int,
    method: str,
    step: float | None,
    tol: float | None,
    rtol: float | None,
    var_order: tuple[str, ...] | None,
    fmt: str,
    no_cache: bool,
) -> None:
    """Numerical and analytic (sympy) derivatives of EXPR side by side, with their errors.

    The analytic derivative is evaluated at 30 significant digits, so the errors shown are the numerical
    method's own. With --tol/--rtol it is a check for CI: exit status 1 if an error exceeds the bound.

    \b
    Examples:
      numdiff compare "exp(3*x**2)" --at 1
      numdiff compare "sin(x)" --at 1 --method all
      numdiff compare "x**3" --at 2 --order 2 --tol 1e-8
    """
    from numdiff_cli import cache
    from numdiff_cli.analytic import Analytic

    expression, var = _single_variable(_expression(expr, var_order, no_cache), wrt)
    if method == "all":
        methods = [m for m in METHODS[1:] if m != "complex" or (expression.analytic and order == 1)] + ["auto"]
    else:
        _check_method(expression, method, order)
        methods = [method]
    analytic = Analytic.of(expression, var, order, cache.enabled(no_cache))

    def compute(chunk: Chunk) -> Block:
        estimates = [_derivative(expression, chunk.values, var, order, m, step) for m in methods]
        exact = analytic.values(chunk.values)
        rows, plain = [], []
        for j in range(chunk.values.shape[1]):
            for estimate in estimates:
                numeric = float(estimate.value[j])
                abs_error, rel_error = analytic.errors(numeric, exact[j])
                row = {
                    "expr": expr,
                    "at": _at(expression, chunk.values[:, j]),
                    "analytic_expr": analytic.text,
                    "analytic": float(exact[j]),
                    "numeric": numeric,
                    "abs_error": abs_error,
                    "rel_error": rel_error,
                    "method": estimate.method,
                    "h": float(estimate.step[j]),
                }
                warning = _warning(estimate, j)
                if not math.isfinite(float(exact[j])):
                    warning = warning or "the analytic derivative is not finite here"
                exceeded = _exceeds(abs_error, tol) or _exceeds(rel_error, rtol)
                if exceeded and chunk.problems.get(j) is None:
                    bound = f"--tol {tol}" if _exceeds(abs_error, tol) else f"--rtol {rtol}"
                    warning = warning or f"the error exceeds {bound}"
                if warning:
                    row["warning"] = warning
                rows.append(row)
                plain.append(f"{numeric!r} {float(exact[j])!r} {abs_error!r}")
        return _mark_bad(chunk, Block.of_rows(rows, plain), per_point=len(methods))

    _run(_points(expression, at, range_text), compute, fmt, COMPARE_KEYS, f"d{_order_mark(order)}/d{var} {expr}")


def _exceeds(error: float, bound: float | None) -> bool:
    return bound is not None and not (error <= bound)


HESSIAN_KEYS = ("expr", "vars", "at", "hessian", "error")


@cli.command()
@click.argument("expr")
@AT
@METHOD
@STEP
@VARS
@FORMAT
@NO_CACHE
def hessian(
    expr: str,
    at: tuple[str, ...],
    method: str,
    step: float | None,
    var_order: tuple[str, ...] | None,
    fmt: str,
    no_cache: bool,
) -> None:
    """Hessian matrix (second partial derivatives) of EXPR, rows and columns in variable order.

    The matrix is symmetric by construction: H[i,j] is (f_uu - f_vv)/4 along u = e_i + e_j and v = e_i - e_j,
    each an adaptive second derivative with an error estimate. Plain output: one line per point, the rows
    separated by '; '.

    \b
    Examples:
      numdiff hessian "x**2*y + y**3" --at x=1,y=2
      numdiff hessian "sin(x*y)" --at 0.5,2 --format json
    """
    import numpy as np

    from numdiff_cli.hessian import hessian as engine_hessian

    expression = _expression(expr, var_order, no_cache)
    if not expression.names:
        raise OptionError("the expression has no variables; name them with --vars to get a zero Hessian")
    if method == "complex":
        raise OptionError("--method complex computes first derivatives only; use --method auto or central")
    names = list(expression.names)

    def compute(chunk: Chunk) -> Block:
        estimate = engine_hessian(expression.function, chunk.values, method=method, step=step, check_step=True)
        rows, plain = [], []
        for j in range(chunk.values.shape[1]):
            values, errors = estimate.value[..., j], estimate.error[..., j]
            row = {
                "expr": expr,
                "vars": names,
                "at": _at(expression, chunk.values[:, j]),
                "hessian": values.tolist(),
                "error": None if np.isnan(errors).all() else errors.tolist(),
            }
            if warning := _matrix_warning(estimate, j):
                row["warning"] = warning
            rows.append(row)
            plain.append(_plain_matrix(values))
        return _mark_bad(chunk, Block.of_rows(rows, plain))

    _run(_points(expression, at, None), compute, fmt, HESSIAN_KEYS, f"hessian {expr}")


def _plain_matrix(values: np.ndarray) -> str:
    """``4.0 2.0; 2.0 12.0``: the rows of a matrix on one line."""
    return "; ".join(" ".join(map(repr, row)) for row in values.tolist())


def _matrix_warning(estimate: Estimate, j: int) -> str | None:
    """The first warning among the entries of point ``j`` (the last axis) of a matrix-valued estimate."""
    import numpy as np

    for index in np.ndindex(*estimate.status.shape[:-1]):
        if warning := _warning(estimate, (*index, j)):
            return warning
    return None


JACOBIAN_KEYS = ("expr", "vars", "at", "jacobian", "error")


@cli.command()
@click.argument("exprs", nargs=-1, required=True, metavar="EXPR1 EXPR2 ...")
@AT
@METHOD
@STEP
@VARS
@FORMAT
@NO_CACHE
def jacobian(
    exprs: tuple[str, ...],
    at: tuple[str, ...],
    method: str,
    step: float | None,
    var_order: tuple[str, ...] | None,
    fmt: str,
    no_cache: bool,
) -> None:
    """Jacobian matrix of the functions EXPR1 EXPR2 ...: one row per expression, one column per variable.

    The variables are those of all the expressions together, in the usual order (indexed components, then
    names in natural order) or as given by --vars. Plain output: one line per point, the rows separated by '; '.
    JSON: "expr" is the list of expressions.

    \b
    Examples:
      numdiff jacobian "x*y" "x + y**2" --at x=1,y=2
      numdiff jacobian "r*cos(t)" "r*sin(t)" --at r=2,t=0.5 --format json
    """
    import numpy as np

    from numdiff_cli import engine
    from numdiff_cli.points import point_chunks

    expressions = [_expression(text, None, no_cache) for text in exprs]
    names, shapes = _union_variables(expressions, var_order)
    if not names:
        raise OptionError("the expressions have no variables; name them with --vars to get a zero Jacobian")
    for expression in expressions:
        _check_method(expression, method, 1)
    columns = [[names.index(name) for name in expression.names] for expression in expressions]
    univariate = len(names) == 1 and not shapes
    if not at:
        raise OptionError("no points: give --at POINT (repeatable), or --at - for standard input")

    def compute(chunk: Chunk) -> Block:
        X = chunk.values
        count = X.shape[1]
        value = np.zeros((len(expressions), len(names), count))
        error = np.zeros_like(value)
        warnings: list[list[str]] = [[] for _ in range(count)]
        any_error = False
        for k, (expression, index) in enumerate(zip(expressions, columns)):
            if not index:
                continue
            estimate = engine.gradient(expression.function, X[index], method=method, step=step, check_step=True)
            value[k, index] = estimate.value
            error[k, index] = estimate.error
            any_error = any_error or not np.isnan(estimate.error).all()
            for j in range(count):
                if warning := _first_warning(estimate, j):
                    warnings[j].append(warning)
        rows, plain = [], []
        for j in range(count):
            row = {
                "expr": list(exprs),
                "vars": names,
                "at": float(X[0, j]) if univariate else dict(zip(names, X[:, j].tolist())),
                "jacobian": value[..., j].tolist(),
                "error": error[..., j].tolist() if any_error else None,
            }
            if warnings[j]:
                row["warning"] = warnings[j][0]
            rows.append(row)
            plain.append(_plain_matrix(value[..., j]))
        return _mark_bad(chunk, Block.of_rows(rows, plain))

    chunks = point_chunks(at, None, tuple(names), shapes, sys.stdin)
    _run(chunks, compute, fmt, JACOBIAN_KEYS, "jacobian " + ", ".join(exprs))


def _union_variables(
    expressions: Sequence[Expression], var_order: tuple[str, ...] | None
) -> tuple[list[str], dict[str, tuple[int, ...]]]:
    """The variables of several expressions together: indexed components (each base in the largest shape any
    expression gives it), then plain names, in natural order; or ``var_order``, which must list them all."""
    import numpy as np

    from numdiff_cli.expr import natural_key

    shapes: dict[str, tuple[int, ...]] = {}
    for expression in expressions:
        for base, shape in expression.shapes.items():
            known = shapes.get(base, shape)
            if len(known) != len(shape):
                raise OptionError(f"'{base}' is indexed with different numbers of indices in different expressions")
            shapes[base] = tuple(max(a, b) for a, b in zip(known, shape))
    indexed = [
        f"{base}[{','.join(map(str, key))}]"
        for base in sorted(shapes, key=natural_key)
        for key in np.ndindex(*shapes[base])
    ]
    plain = sorted({name for e in expressions for name in e.names if "[" not in name}, key=natural_key)
    names = indexed + plain
    if var_order is None:
        return names, shapes
    missing = [name for name in names if name not in var_order]
    if missing:
        raise OptionError(f"--vars must list every variable; missing {', '.join(missing[:6])}")
    extra = [name for name in var_order if name not in names and not name.isidentifier()]
    if extra:
        raise OptionError(f"invalid variable name {extra[0]!r} in --vars")
    return list(var_order), shapes


def main(prog_name: str | None = None) -> None:
    """Console-script entry point."""
    cli.main(prog_name=prog_name)
