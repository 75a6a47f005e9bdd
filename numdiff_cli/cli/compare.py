"""``numdiff compare``: numerical against analytic derivatives, as a check (``--tol``) or by step (``--sweep``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import click

from numdiff_cli.cli import inputs, output
from numdiff_cli.cli.options import AT, DTYPE, FORMAT, NO_CACHE, ORDER, PLOT, RANGE, STEP, VARS, WRT, StepType
from numdiff_cli.contract import KEYS, METHODS
from numdiff_cli.errors import OptionError

if TYPE_CHECKING:
    from numdiff_cli.expr import Expression
    from numdiff_cli.points import Chunk


@click.command()
@click.argument("expr")
@AT
@RANGE
@WRT
@ORDER
@click.option(
    "--method",
    type=click.Choice((*METHODS, "all")),
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
    import math

    from numdiff_cli import cache
    from numdiff_cli.analytic import Analytic
    from numdiff_cli.derivatives import derivative_of

    expression, var = inputs.single_variable(inputs.expression(expr, var_order, no_cache), wrt)
    if method != "all":
        inputs.check_method(method, order=order, analytic=expression.analytic, dtype=dtype)
    if sweep or sweep_range is not None:
        if step is not None or tol is not None or rtol is not None:
            raise OptionError("--sweep chooses the steps itself and checks nothing; leave out --h, --tol and --rtol")
        chunks = inputs.points(expression, at, range_text)
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

    def compute(chunk: Chunk) -> output.Block:
        estimates = [
            derivative_of(expression, chunk.values, var, order=order, method=m, step=step, dtype=dtype) for m in methods
        ]
        exact = analytic.values(chunk.values)
        rows, plain = [], []
        for j in range(chunk.values.shape[1]):
            for estimate in estimates:
                numeric = float(estimate.value[j])
                abs_error, rel_error = analytic.errors(numeric, exact[j])
                row = {
                    "expr": expr,
                    "at": output.point_of(expression, chunk.values[:, j]),
                    "analytic_expr": analytic.text,
                    "analytic": float(exact[j]),
                    "numeric": numeric,
                    "abs_error": abs_error,
                    "rel_error": rel_error,
                    "method": estimate.method,
                    "h": float(estimate.step[j]),
                }
                warning = output.first_warning(estimate.status, j, dtype)
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
        return output.mark_bad(chunk, output.Block.of_rows(rows, plain), per_point=len(methods))

    keys = KEYS["compare"] if dtype == "float64" else (*KEYS["compare"], "dtype")
    chunks = inputs.points(expression, at, range_text)
    output.run(chunks, compute, fmt, keys, output.derivative_title(order, var, expr))


def _exceeds(error: float, bound: float | None) -> bool:
    return bound is not None and not (error <= bound)


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
    """``compare --sweep``: one row per step and point, then a text plot on a terminal, or a picture (--plot)."""
    from numdiff_cli.lessons import SweepStudy, sweep_plain
    from numdiff_cli.numerics.sweep import sweep_steps

    if method == "all":
        raise OptionError("--sweep studies one method; choose --method central, forward, backward or complex")
    kind = "central" if method == "auto" else method
    steps = sweep_steps(*inputs.sweep_range(sweep_range))
    study = SweepStudy(expression, var, expr=expr, order=order, kind=kind, dtype=dtype, steps=steps)
    if plot_path is not None:
        from numdiff_cli import plot

        plot.require()

    def compute(chunk: Chunk) -> output.Block:
        rows: list[dict[str, Any]] = []
        for j in range(chunk.values.shape[1]):
            if j not in chunk.problems:
                X = chunk.values[:, j : j + 1]
                rows.extend(study.point(X, output.point_of(expression, X[:, 0])))
        return output.with_bad_lines(chunk, rows, [sweep_plain(row) for row in rows], expr)

    if plot_path is None:
        title = f"{output.derivative_title(order, var, expr)}: {kind} difference by step"
        output.run_then_draw(lambda: output.run(chunks, compute, fmt, KEYS["sweep"], title), study.text_plots, fmt)
        return
    for chunk in chunks:
        compute(chunk)
    if not 1 <= len(study.curves) <= 8:
        message = "compare --sweep --plot draws 1 to 8 points; give fewer points"
        raise OptionError(message if study.curves else "no points")
    study.draw(plot_path)
