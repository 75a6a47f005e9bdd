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


class LimitsType(click.ParamType):
    name = "A,B"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> tuple[float, float]:
        if isinstance(value, tuple):
            return value
        parts = str(value).replace(":", ",").split(",")
        try:
            low, high = (float(part) for part in parts)
        except ValueError:
            self.fail(f"{value!r}: expected two numbers LOW,HIGH, e.g. -2,2", param, ctx)
        if not (math.isfinite(low) and math.isfinite(high) and low < high):
            self.fail(f"{value!r}: expected finite LOW < HIGH", param, ctx)
        return low, high


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

DTYPE = click.option(
    "--dtype",
    type=click.Choice(("float64", "float32")),
    default="float64",
    show_default=True,
    help="Precision of the finite difference: float32 shows how rounding error moves the best step "
    "(auto then means central).",
)
PLOT = click.option(
    "--plot",
    "plot_path",
    type=click.Path(dir_okay=False),
    metavar="FILE.png",
    help="Draw a picture into FILE.png instead of printing results (needs the 'plot' extra: matplotlib).",
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


def _expression(text: str, var_order: tuple[str, ...] | None, no_cache: bool = False) -> Expression:
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
@DTYPE
@click.option("--explain", is_flag=True, help="After the result, show the formula evaluated with the actual numbers.")
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
    dtype: str,
    explain: bool,
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
      numdiff diff "exp(x)" --at 1 --method central --h 1e-2 --dtype float32
      numdiff diff "x**2 + 3*x + 5" --at 2 --method central --h 1e-4 --explain
    """
    expression, var = _single_variable(_expression(expr, var_order, no_cache), wrt)
    _check_method(expression, method, order)
    _check_dtype(method, dtype)
    chunks = _points(expression, at, range_text)
    explanation = ""
    if explain:
        chunks, explanation = _explanation(expression, chunks, var, order, method, step, dtype)

    def compute(chunk: Chunk) -> Block:
        estimate = _numeric(expression, chunk.values, var, order, method, step, dtype)
        X = chunk.values

        def row(j: int) -> dict[str, Any]:
            result = {
                "expr": expr,
                "var": var,
                "at": _at(expression, X[:, j]),
                "order": order,
                "method": estimate.method,
                "h": float(estimate.step[j]),
                "derivative": float(estimate.value[j]),
                "error": float(estimate.error[j]),
            }
            if dtype != "float64":
                result["dtype"] = dtype
            return result

        warnings = _warnings(expression, X, estimate)
        if dtype != "float64":
            warnings = {j: (message.replace("double precision", dtype), at) for j, (message, at) in warnings.items()}
        block = Block(X.shape[1], row, lambda: list(map(repr, estimate.value.tolist())), warnings)
        if dtype == "float64" and len(expression.names) == 1 and not expression.shapes:
            block.fast["json"] = lambda block: _diff_json(block, expr, var, order, X[0], estimate)
            block.fast["csv"] = lambda block: _diff_csv(block, expr, var, order, X[0], estimate)
        return _mark_bad(chunk, block)

    keys = DIFF_KEYS if dtype == "float64" else DIFF_KEYS + ("dtype",)
    try:
        _run(chunks, compute, fmt, keys, f"d{_order_mark(order)}/d{var} {expr}")
    finally:
        if explain:
            # Machine-readable formats keep stdout clean: the explanation goes to stderr there.
            click.echo(explanation, err=fmt in ("json", "csv"), nl=False)


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
@click.option("--field", is_flag=True, help="The gradient on a 15x15 grid over --xlim x --ylim (two variables).")
@click.option("--xlim", type=LimitsType(), default="-2,2", show_default=True, help="x range of --field.")
@click.option("--ylim", type=LimitsType(), default="-2,2", show_default=True, help="y range of --field.")
@PLOT
@VARS
@FORMAT
@NO_CACHE
def grad(
    expr: str,
    at: tuple[str, ...],
    method: str,
    step: float | None,
    field: bool,
    xlim: tuple[float, float],
    ylim: tuple[float, float],
    plot_path: str | None,
    var_order: tuple[str, ...] | None,
    fmt: str,
    no_cache: bool,
) -> None:
    """Gradient of a multivariable EXPR, in variable order (or in the shape of a matrix variable).

    --field computes it on a grid instead of at --at points; with --plot FILE.png it draws the arrows of
    -grad f over the contours of f.

    \b
    Examples:
      numdiff grad "x0**2 + 5*x1 + 2*x2**2" --at 3,2,1
      numdiff grad "x[0]**2 + x[1]**2" --at 3,4 --at 0,2
      numdiff grad "W[0,0]*W[1,1] - W[0,1]*W[1,0]" --at "[[1,2],[3,4]]"
      numdiff grad "x*y" --at x=2,y=3 --format json
      numdiff grad "x**2 + 3*y**2" --field --format csv
    """
    import numpy as np

    from numdiff_cli import engine

    expression = _expression(expr, var_order, no_cache)
    if not expression.names:
        raise OptionError("the expression has no variables; name them with --vars to get a zero gradient")
    _check_method(expression, method, 1)
    shape = _gradient_shape(expression)
    if field and at:
        raise OptionError("--field computes the gradient on a grid; leave out --at")
    if plot_path is not None:
        if not field:
            raise OptionError("grad --plot draws the -grad f field; add --field")
        from numdiff_cli import plot

        plot.require()
        if len(expression.names) != 2:
            raise OptionError("--field needs an expression of two variables")
        data = plot.field_data(expression.function, xlim, ylim, method=method, step=step)
        plot.draw_field(data, expr, plot_path, expression.names)
        return

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

    chunks = _field(expression, xlim, ylim) if field else _points(expression, at, None)
    if not field:
        _run(chunks, compute, fmt, GRAD_KEYS, f"grad {expr}")
        return

    def draw() -> str:
        from numdiff_cli import plot

        where = plot.field_points(xlim, ylim)
        grad = engine.gradient(expression.function, where, method=method, step=step).value
        return f"-grad f on {xlim} x {ylim}, top row: largest {expression.names[1]}\n" + plot.text_field(
            -grad[0], -grad[1], 15
        )

    _run_then_draw(lambda: _run(chunks, compute, fmt, GRAD_KEYS, f"grad {expr}"), draw, fmt)


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
@PLOT
@VARS
@FORMAT
@NO_CACHE
def tangent(
    expr: str,
    at: tuple[str, ...],
    method: str,
    step: float | None,
    plot_path: str | None,
    var_order: tuple[str, ...] | None,
    fmt: str,
    no_cache: bool,
) -> None:
    """Tangent line of EXPR at a point (the tangent plane for several variables).

    --plot FILE.png draws f and its tangent lines around the points (one variable).

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
    if plot_path is not None:
        _plot_tangent(expression, _points(expression, at, None), method, step, plot_path)
        return

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
    chunks = _points(expression, at, None)
    if not univariate:
        _run(chunks, compute, fmt, keys, f"tangent of {expr}")
        return
    seen: list[np.ndarray] = []

    def remember(chunk: Chunk) -> Block:
        seen.append(chunk.values[0])
        return compute(chunk)

    def draw() -> str:
        import numpy as np

        return _text_tangent(expression, np.concatenate(seen)[:10], method, step)

    _run_then_draw(lambda: _run(chunks, remember, fmt, keys, f"tangent of {expr}"), draw, fmt)


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
@DTYPE
@click.option("--sweep", is_flag=True, help="One row per step h = 1e-1 ... 1e-16: the error-vs-step study.")
@click.option("--sweep-range", metavar="START:STOP[:NUM]", help="Steps of --sweep, log-spaced (default 1e-1:1e-16:16).")
@PLOT
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
    dtype: str,
    sweep: bool,
    sweep_range: str | None,
    plot_path: str | None,
    var_order: tuple[str, ...] | None,
    fmt: str,
    no_cache: bool,
) -> None:
    """Numerical and analytic (sympy) derivatives of EXPR side by side, with their errors.

    The analytic derivative is evaluated at 30 significant digits, so the errors shown are the numerical
    method's own. With --tol/--rtol it is a check for CI: exit status 1 if an error exceeds the bound.
    --sweep evaluates the method at steps 1e-1 ... 1e-16 (one row each, best step marked); with --plot
    FILE.png it draws the log-log error-vs-step curve.

    \b
    Examples:
      numdiff compare "exp(3*x**2)" --at 1
      numdiff compare "sin(x)" --at 1 --method all
      numdiff compare "x**3" --at 2 --order 2 --tol 1e-8
      numdiff compare "sin(x)" --at 1 --method central --sweep
      numdiff compare "exp(x)" --at 1 --method central --sweep --dtype float32
    """
    from numdiff_cli import cache
    from numdiff_cli.analytic import Analytic

    expression, var = _single_variable(_expression(expr, var_order, no_cache), wrt)
    if method != "all":
        _check_method(expression, method, order)
        _check_dtype(method, dtype)
    if sweep or sweep_range is not None:
        if step is not None or tol is not None or rtol is not None:
            raise OptionError("--sweep chooses the steps itself and checks nothing; leave out --h, --tol and --rtol")
        chunks = _points(expression, at, range_text)
        _sweep(expr, expression, var, chunks, order, method, dtype, sweep_range, plot_path, fmt)
        return
    if plot_path is not None:
        raise OptionError("compare --plot draws the error-vs-step curve of --sweep; add --sweep")
    if method == "all":
        methods = [m for m in METHODS[1:] if m != "complex" or (expression.analytic and order == 1)] + ["auto"]
        methods = methods if dtype == "float64" else ["central", "forward", "backward"]
    else:
        methods = [method]
    analytic = Analytic.of(expression, var, order, cache.enabled(no_cache))

    def compute(chunk: Chunk) -> Block:
        estimates = [_numeric(expression, chunk.values, var, order, m, step, dtype) for m in methods]
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
                warning = _dtype_warning(estimate, j, dtype)
                if not math.isfinite(float(exact[j])):
                    warning = warning or "the analytic derivative is not finite here"
                exceeded = _exceeds(abs_error, tol) or _exceeds(rel_error, rtol)
                if exceeded and chunk.problems.get(j) is None:
                    bound = f"--tol {tol}" if _exceeds(abs_error, tol) else f"--rtol {rtol}"
                    warning = warning or f"the error exceeds {bound}"
                if dtype != "float64":
                    row["dtype"] = dtype
                if warning:
                    row["warning"] = warning
                rows.append(row)
                plain.append(f"{numeric!r} {float(exact[j])!r} {abs_error!r}")
        return _mark_bad(chunk, Block.of_rows(rows, plain), per_point=len(methods))

    keys = COMPARE_KEYS if dtype == "float64" else COMPARE_KEYS + ("dtype",)
    _run(_points(expression, at, range_text), compute, fmt, keys, f"d{_order_mark(order)}/d{var} {expr}")


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


# ---------------------------------------------------------------------------------------------------------------
# Lessons: --dtype, --explain, compare --sweep, pictures, descend


def _check_dtype(method: str, dtype: str) -> None:
    if dtype != "float64" and method == "complex":
        raise OptionError("--dtype float32 works with --method central, forward, backward or auto (central)")


def _numeric(
    expression: Expression, X: np.ndarray, var: str, order: int, method: str, step: float | None, dtype: str
) -> Estimate:
    if dtype == "float64":
        return _derivative(expression, X, var, order, method, step)
    from numdiff_cli.lessons import single_precision

    return single_precision(expression, X, var, order, method, step, dtype)


def _dtype_warning(estimate: Estimate, j: int, dtype: str) -> str | None:
    warning = _warning(estimate, j)
    if warning and dtype != "float64":
        warning = warning.replace("double precision", dtype)
    return warning


def _single_point(chunks: Iterator[Chunk], option: str) -> tuple[list[Chunk], np.ndarray]:
    chunks_list = list(chunks)
    if sum(chunk.values.shape[1] for chunk in chunks_list) != 1:
        raise OptionError(f"{option} works on one point; give a single --at")
    (chunk,) = (c for c in chunks_list if c.values.shape[1])
    if chunk.problems:
        raise OptionError(next(iter(chunk.problems.values())))
    return chunks_list, chunk.values


def _explanation(
    expression: Expression,
    chunks: Iterator[Chunk],
    var: str,
    order: int,
    method: str,
    step: float | None,
    dtype: str,
) -> tuple[Iterator[Chunk], str]:
    from numdiff_cli.lessons import explanation

    chunks_list, X = _single_point(chunks, "--explain")
    return iter(chunks_list), "\n" + explanation(expression, X, var, order, method, step, dtype)


def _sweep(
    expr: str,
    expression: Expression,
    var: str,
    chunks: Iterator[Chunk],
    order: int,
    method: str,
    dtype: str,
    sweep_range: str | None,
    plot_path: str | None,
    fmt: str,
) -> None:
    import numpy as np

    from numdiff_cli.analytic import Analytic
    from numdiff_cli.lessons import SWEEP_KEYS, sweep_plain, sweep_point
    from numdiff_cli.stepsize import sweep_steps

    if method == "all":
        raise OptionError("--sweep studies one method; choose --method central, forward, backward or complex")
    if method == "complex" and order != 1:
        raise OptionError("--method complex computes first derivatives only; use --order 1 or another method")
    kind = "central" if method == "auto" else method
    steps = sweep_steps(*_sweep_range(sweep_range))
    analytic = Analytic.of(expression, var, order, use_cache=False)
    if plot_path is not None:
        from numdiff_cli import plot

        plot.require()
    curves: list[tuple[str, list[float]]] = []
    bests: list[int | None] = []
    optima: set[float | None] = set()

    def compute(chunk: Chunk) -> Block:
        rows: list[dict[str, Any]] = []
        plain: list[str] = []
        for j in range(chunk.values.shape[1]):
            if j in chunk.problems:
                continue
            X = chunk.values[:, j : j + 1]
            at = _at(expression, X[:, 0])
            result = sweep_point(
                expression, analytic, X, var, expr=expr, at=at, order=order, kind=kind, dtype=dtype, steps=steps
            )
            rows.extend(result.rows)
            plain.extend(sweep_plain(row) for row in result.rows)
            label = f"at {var}={_describe(at)}" if not isinstance(at, dict) else f"at {_describe(at)}"
            curves.append((label, result.errors))
            bests.append(result.best)
            optima.add(result.optimum)
        for message in chunk.problems.values():
            rows.append({"expr": expr, "warning": message})
            plain.append("nan")
        block = Block.of_rows(rows, plain)
        block.bad.update(range(len(rows) - len(chunk.problems), len(rows)))
        return block

    if plot_path is None:

        def draw() -> str:
            from numdiff_cli.plot import text_plot

            ticks = (f"h={steps[0]:g}", f"h={steps[-1]:g}")
            return "\n\n".join(
                f"{label}:\n"
                + text_plot(
                    1 / steps,
                    errors,
                    log=True,
                    marks={best: "B"} if best is not None else {},
                    xlabel="(B: best step)",
                    ylabel="abs_error",
                    xticks=ticks,
                )
                for (label, errors), best in zip(curves[:4], bests)
            )

        title = f"d{_order_mark(order)}/d{var} {expr}: {kind} difference by step"
        _run_then_draw(lambda: _run(chunks, compute, fmt, SWEEP_KEYS, title), draw, fmt)
        return
    for chunk in chunks:
        compute(chunk)
    if not 1 <= len(curves) <= 8:
        raise OptionError("compare --sweep --plot draws 1 to 8 points; give fewer points" if curves else "no points")
    from numdiff_cli import plot

    # One dashed line for the theoretical optimum, when it is the same for every point (it scales with |x|).
    optimum = next(iter(optima)) if len(optima) == 1 else None
    data = plot.sweep_data(steps, np.array([errors for _, errors in curves]), [label for label, _ in curves], optimum)
    plot.draw_sweep(data, expr, plot_path, kind, dtype)


def _sweep_range(text: str | None) -> tuple[float, float, int]:
    if text is None:
        return 1e-1, 1e-16, 16
    parts = text.split(":")
    try:
        start, stop = float(parts[0]), float(parts[1])
        num = int(parts[2]) if len(parts) == 3 else None
    except (ValueError, IndexError):
        raise OptionError(f"--sweep-range {text!r}: expected START:STOP[:NUM], e.g. 1e-1:1e-16:16") from None
    if len(parts) > 3 or not (0 < start < math.inf and 0 < stop < math.inf) or start == stop:
        raise OptionError(f"--sweep-range {text!r}: START and STOP must be different positive finite steps")
    if num is None:
        num = round(abs(math.log10(start / stop))) + 1  # one step per decade
    if not 2 <= num <= 1000:
        raise OptionError(f"--sweep-range {text!r}: NUM must be between 2 and 1000")
    return start, stop, num


def _terminal_plots(fmt: str) -> bool:
    """Text plots only for a person at a terminal: never in a pipe or a file, never with plain/json/csv."""
    return fmt in ("auto", "table") and sys.stdout.isatty()


def _run_then_draw(run: Callable[[], None], draw: Callable[[], str], fmt: str) -> None:
    """``run()``, then on a terminal the small text plot ``draw()`` (also when run ends with exit status 1)."""
    try:
        run()
    except click.exceptions.Exit as exit_:
        if exit_.exit_code == 1 and _terminal_plots(fmt):
            click.echo("\n" + draw())
        raise
    if _terminal_plots(fmt):
        click.echo("\n" + draw())


def _text_tangent(expression: Expression, points: np.ndarray, method: str, step: float | None) -> str:
    import numpy as np

    from numdiff_cli import engine, plot

    finite = points[np.isfinite(points)]
    if not finite.size:
        return ""
    function = expression.function
    values = function(finite[None])
    slopes = engine.gradient(function, finite[None], method=method, step=step).value[0]
    data = plot.tangent_data(lambda x: function(x[None]), finite, values, slopes, num=60)
    return plot.text_tangent(data, expression.names[0])


def _plot_tangent(expression: Expression, chunks: Iterator[Chunk], method: str, step: float | None, path: str) -> None:
    import numpy as np

    from numdiff_cli import engine, plot

    plot.require()
    if len(expression.names) != 1 or expression.shapes:
        raise OptionError("tangent --plot draws expressions of one variable")
    X = np.concatenate([chunk.values for chunk in chunks], axis=1)
    if X.shape[1] > 10:
        raise OptionError("tangent --plot draws at most 10 tangent lines; give fewer points")
    values = expression.function(X)
    slopes = engine.gradient(expression.function, X, method=method, step=step).value[0]
    function = expression.function
    data = plot.tangent_data(lambda x: function(x[None]), X[0], values, slopes)
    plot.draw_tangent(data, expression.text, path, expression.names[0])


def _field(expression: Expression, xlim: tuple[float, float], ylim: tuple[float, float]) -> Iterator[Chunk]:
    from numdiff_cli.plot import field_points
    from numdiff_cli.points import Chunk

    if len(expression.names) != 2:
        raise OptionError("--field needs an expression of two variables")
    yield Chunk(field_points(xlim, ylim))


DESCEND_KEYS = ("expr", "start", "lr", "steps", "at", "value", "gradient_norm", "converged", "diverged")


@cli.command()
@click.argument("expr")
@click.option("--from", "start", required=True, metavar="POINT", help="Starting point, e.g. -3,4 or x=1,y=2.")
@click.option("--lr", type=StepType(), metavar="LR", default=0.1, show_default=True, help="Learning rate.")
@click.option("--steps", type=click.IntRange(0, 1_000_000), default=100, show_default=True, help="Maximum steps.")
@click.option(
    "--gtol",
    type=click.FloatRange(min=0),
    default=1e-8,
    show_default=True,
    help="Stop when the gradient norm is at most this.",
)
@click.option("--trace", is_flag=True, help="Print every step, one JSON line each (or one row in the --format given).")
@METHOD
@STEP
@VARS
@PLOT
@FORMAT
def descend(
    expr: str,
    start: str,
    lr: float,
    steps: int,
    gtol: float,
    trace: bool,
    method: str,
    step: float | None,
    var_order: tuple[str, ...] | None,
    plot_path: str | None,
    fmt: str,
) -> None:
    """Gradient descent on EXPR from a point: x <- x - lr * grad f(x), with numdiff's gradient.

    Stops when the gradient norm falls below --gtol or after --steps steps. A learning rate that is too
    large (--lr 1.5 on the first example) makes every step overshoot: f grows without bound; that is reported
    (exit status 1) with a hint. Plain output: the final point, its coordinates separated by spaces. --trace
    prints every step as a JSON line (unless --format says otherwise). --plot FILE.png draws the path over the
    contours of f.

    \b
    Examples:
      numdiff descend "x0**2 + x1**2" --from -3,4 --lr 0.1 --steps 100
      numdiff descend "(x-1)**2" --from 5 --lr 0.2 --trace --format json
    """
    import numpy as np

    from numdiff_cli.descend import descend as run_descent
    from numdiff_cli.points import parse_point

    expression = _expression(expr, var_order)
    if not expression.names:
        raise OptionError("the expression has no variables: there is nothing to descend")
    _check_method(expression, method, 1)
    if plot_path is not None:
        from numdiff_cli import plot

        plot.require()
        if len(expression.names) > 2:
            raise OptionError("descend --plot draws expressions of one or two variables")
    point = parse_point(start, expression.names, expression.shapes)
    names = expression.names
    if trace and fmt == "auto":
        fmt = "json"
    start_at = dict(zip(names, point.tolist()))
    writer = Writer(fmt, DESCEND_KEYS, f"gradient descent on {expr}") if plot_path is None else None
    path, values = [], []
    last = None
    for state in run_descent(expression.function, point, lr=lr, steps=steps, gtol=gtol, method=method, step=step):
        if state.index == 0 and state.diverged:
            raise OptionError(f"f or its gradient is not finite at the starting point {_describe(dict(start_at))}")
        path.append(state.point)
        values.append(state.value)
        last = state
        if writer is not None and (trace or state.converged or state.diverged or state.index == steps):
            row = {
                "expr": expr,
                "start": start_at,
                "lr": lr,
                "steps": state.index,
                "at": dict(zip(names, state.point.tolist())),
                "value": state.value,
                "gradient_norm": state.gradient_norm,
                "converged": state.converged,
                "diverged": state.diverged,
            }
            writer.write(Block.of_rows([row], [" ".join(map(repr, state.point.tolist()))]))
    assert last is not None
    if writer is not None:
        writer.close()
    else:
        from numdiff_cli import plot

        data = plot.path_data(expression.function, np.stack(path, axis=1), values)
        outcome = "diverged" if last.diverged else "converged" if last.converged else "not converged"
        plot.draw_path(data, expr, plot_path or "", names, lr, outcome)
    if last.diverged:
        _stderr(
            f"Error: gradient descent diverged after {last.index} step{'s' * (last.index != 1)} (f = {last.value:.3g},"
            f" gradient norm"
            f" {last.gradient_norm:.3g}): the learning rate {lr:g} is too large; try a smaller one, e.g."
            f" --lr {lr / 10:g}"
        )
        raise click.exceptions.Exit(1)
    if not last.converged:
        _stderr(
            f"Note: not converged after {last.index} step{'s' * (last.index != 1)} (gradient norm"
            f" {last.gradient_norm:.3g} > --gtol {gtol:g}); raise --steps, or --lr if the steps are too small"
        )


def main(prog_name: str | None = None) -> None:
    """Console-script entry point."""
    cli.main(prog_name=prog_name)
