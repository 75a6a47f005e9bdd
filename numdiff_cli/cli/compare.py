"""``numdiff compare``: numerical against analytic derivatives, as a check (``--tol``) or by step (``--sweep``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import click

import numdiff_cli.cli.inputs as inputs
import numdiff_cli.cli.output as output
import numdiff_cli.cli.terminal as terminal
import numdiff_cli.cli.words as words
from numdiff_cli.cli.options import DTYPE, PLOT, TARGET, VIEW, How, StepType, Target, View, how
from numdiff_cli.contract import KEYS, METHODS, method_refusal
from numdiff_cli.errors import OptionError

if TYPE_CHECKING:
    from numdiff_cli.expr import Expression
    from numdiff_cli.points import Chunk


@click.command()
@click.argument("expr")
@TARGET
@how(
    click.option(
        "--method",
        type=click.Choice((*METHODS, "all")),
        default="auto",
        show_default=True,
        help="Numerical method to check, or 'all' for one row per method.",
    )
)
@click.option(
    "--atol",
    "--tol",
    "atol",
    type=StepType(),
    help="Absolute tolerance: a check passes when |numeric - analytic| <= atol + rtol*|analytic| (exit 1 if not).",
)
@click.option("--rtol", type=StepType(), help="Relative tolerance of the check (see --atol; default 0).")
@click.option(
    "--strict",
    is_flag=True,
    help="With a tolerance, a result with a warning also fails the run (exit 3) when it passes.",
)
@DTYPE
@click.option("--sweep", is_flag=True, help="One row per step h = 1e-1 ... 1e-16: the error-vs-step study.")
@click.option("--sweep-range", metavar="START:STOP[:NUM]", help="Steps of --sweep, log-spaced (default 1e-1:1e-16:16).")
@PLOT
@VIEW
def compare(
    expr: str,
    target: Target,
    how: How,
    atol: float | None,
    rtol: float | None,
    strict: bool,
    dtype: str,
    sweep: bool,
    sweep_range: str | None,
    plot_path: str | None,
    view: View,
) -> None:
    """Numerical and analytic (sympy) derivatives of EXPR side by side, with their errors.

    The analytic derivative is evaluated at 30 significant digits, so the errors shown are the numerical
    method's own. With --atol (alias --tol) and/or --rtol each row is a check for CI, as numpy.isclose does
    it: it passes when |numeric - analytic| <= atol + rtol*|analytic|; exit status 1 if one fails, 0 if all
    pass (a warning then only exits 3 with --strict). Without a tolerance a warning exits 3.
    --sweep evaluates the method at steps 1e-1 ... 1e-16 (one row each, best step marked); with --plot
    FILE.png it draws the log-log error-vs-step curve.

    \b
    Examples:
      numdiff compare "exp(3*x**2)" --at 1
      numdiff compare "sin(x)" --at 1 --method all
      numdiff compare "x**3" --at 2 --order 2 --tol 1e-8
      numdiff compare "cos(x)" --at 0 --atol 1e-12 --rtol 1e-8
      numdiff compare "sin(x)" --at 1 --method central --sweep
      numdiff compare "exp(x)" --at 1 --method central --sweep --dtype float32
    """
    import math

    from numdiff_cli import cache
    from numdiff_cli.analytic import Analytic
    from numdiff_cli.checks import tolerance
    from numdiff_cli.derivatives import derivative_of

    order, method, step, fmt = target.order, how.method, how.step, view.fmt
    parsed = inputs.bind(inputs.expression(expr, view.var_order, view.no_cache), target.at, target.lets)
    expression, var = inputs.single_variable(parsed, target.wrt)
    if method != "all":
        inputs.check_method(method, order=order, analytic=expression.analytic, dtype=dtype)
    if sweep or sweep_range is not None:
        if step is not None or atol is not None or rtol is not None or strict:
            raise OptionError(
                "--sweep chooses the steps itself and checks nothing; leave out --h, --atol/--tol, --rtol and --strict"
            )
        chunks = inputs.points(expression, target.at, target.range_text)
        _sweep(expr, expression, var, chunks, order, method, dtype, sweep_range, plot_path, fmt)
        return
    if plot_path is not None:
        raise OptionError("compare --plot draws the error-vs-step curve of --sweep; add --sweep")
    if method == "all":
        # Every method that can compute this derivative, auto last (the adaptive search is float64 only).
        analytic_expression = expression.analytic
        methods = [
            m for m in METHODS[1:] if not method_refusal(m, order=order, analytic=analytic_expression, dtype=dtype)
        ]
        methods += ["auto"] if dtype == "float64" else []
    else:
        methods = [method]
    if strict and atol is None and rtol is None:
        raise OptionError("--strict goes with a tolerance check; add --atol and/or --rtol")
    analytic = Analytic.of(expression, var, order, cache.enabled(view.no_cache))
    checking = atol is not None or rtol is not None

    def compute(chunk: Chunk) -> output.Block:
        estimates = [
            derivative_of(expression, chunk.values, var, order=order, method=m, step=step, dtype=dtype) for m in methods
        ]
        exact = analytic.values(chunk.values)
        rows: list[dict[str, Any]] = []
        plain: list[str] = []
        failed: dict[int, str] = {}
        for j in range(chunk.values.shape[1]):
            for estimate in estimates:
                numeric = float(estimate.value[j])
                reference = float(exact[j])
                abs_error, rel_error = analytic.errors(numeric, exact[j])
                row = {
                    "expr": expr,
                    "at": output.point_of(expression, chunk.values[:, j]),
                    "analytic_expr": analytic.text,
                    "analytic": reference,
                    "numeric": numeric,
                    "abs_error": abs_error,
                    "rel_error": rel_error,
                    "method": estimate.method,
                    "h": float(estimate.step[j]),
                }
                warning = words.first_warning(estimate.status, j, dtype)
                if not math.isfinite(reference):
                    warning = warning or "the analytic derivative is not finite here"
                if checking and chunk.problems.get(j) is None:
                    verdict = tolerance(abs_error, reference, atol, rtol)
                    row["bound"], row["passed"] = verdict.bound, verdict.passed
                    if not verdict.passed:
                        failed[len(rows)] = verdict.why(numeric, reference)
                if dtype != "float64":
                    row["dtype"] = dtype
                if warning:
                    row["warning"] = warning
                rows.append(row)
                # With several methods a line names its method, as a last field (one method: the contract's 3 fields).
                label = f" {estimate.method}" if len(methods) > 1 else ""
                plain.append(f"{numeric!r} {reference!r} {abs_error!r}{label}")
        block = output.Block.of_rows(rows, plain)
        block.failed.update(failed)
        return output.mark_bad(chunk, block, per_point=len(methods))

    keys = KEYS["compare-check" if checking else "compare"]
    keys = keys if dtype == "float64" else (*keys, "dtype")
    chunks = inputs.points(expression, target.at, target.range_text, order)
    title = output.derivative_title(order, var, expr)
    output.run(chunks, compute, fmt, keys, title, expr=expr, check=checking, strict=strict, total=target.total)


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
        terminal.run_then_draw(lambda: output.run(chunks, compute, fmt, KEYS["sweep"], title), study.text_plots, fmt)
        return
    for chunk in chunks:
        compute(chunk)
    if not 1 <= len(study.curves) <= 8:
        message = "compare --sweep --plot draws 1 to 8 points; give fewer points"
        raise OptionError(message if study.curves else "no points")
    study.draw(plot_path)
