"""``numdiff descend``: gradient descent from a point, its result or every step, or a picture of its path."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice
from typing import TYPE_CHECKING

import click

import numdiff_cli.cli.inputs as inputs
import numdiff_cli.cli.output as output
import numdiff_cli.cli.words as words
from numdiff_cli import deadline
from numdiff_cli.cli.options import FORMAT, HOW, NO_CACHE, PLOT, VARS, GtolType, How, StepType
from numdiff_cli.contract import KEYS, OK
from numdiff_cli.errors import OptionError

if TYPE_CHECKING:
    from numdiff_cli.descend import Step

# Steps computed at a time in the worker thread that the deadline watches.
BATCH = 256


@click.command()
@click.argument("expr")
@click.option("--from", "start", required=True, metavar="POINT", help="Starting point, e.g. -3,4 or x=1,y=2.")
@click.option("--lr", type=StepType(), metavar="LR", default=0.1, show_default=True, help="Learning rate.")
@click.option("--steps", type=click.IntRange(0, 1_000_000), default=100, show_default=True, help="Maximum steps.")
@click.option(
    "--gtol",
    type=GtolType(),
    default=1e-8,
    show_default=True,
    help="Stop when the gradient norm is at most this.",
)
@click.option("--trace", is_flag=True, help="Print every step, one JSON line each (or one row in the --format given).")
@HOW
@VARS
@PLOT
@FORMAT
@NO_CACHE
def descend(
    expr: str,
    start: str,
    lr: float,
    steps: int,
    gtol: float,
    trace: bool,
    how: How,
    var_order: tuple[str, ...] | None,
    plot_path: str | None,
    fmt: str,
    no_cache: bool,
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

    method, step = how.method, how.step
    from numdiff_cli.render import describe

    # "-" (standard input) is not a starting point: it is refused below, never read.
    at = (start,) if start.strip() != "-" else ()
    expression = inputs.bind(inputs.expression(expr, var_order, no_cache), at, option="--from")
    if not expression.names:
        raise OptionError("the expression has no variables: there is nothing to descend")
    inputs.check_method(method, analytic=expression.analytic)
    if plot_path is not None:
        from numdiff_cli import plot

        plot.require()
        if len(expression.names) > 2:
            raise OptionError("descend --plot draws expressions of one or two variables")
    point = parse_point(start, expression.names, expression.shapes, "--from")
    names = expression.names
    if trace and fmt == "auto":
        fmt = "json"
    start_at = dict(zip(names, point.tolist()))
    writer = output.Writer(fmt, KEYS["descend"], f"gradient descent on {expr}") if plot_path is None else None
    path, values = [], []
    last = None
    states = run_descent(
        expression.function,
        point,
        lr=lr,
        steps=steps,
        gtol=gtol,
        method=method,
        step=step,
        check_kink=not expression.smooth,
    )
    for state in _bounded(states, steps):
        if state.index == 0 and state.diverged:
            raise OptionError(f"f or its gradient is not finite at the starting point {describe(dict(start_at))}")
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
            if state.status != OK:
                row["warning"] = words.warning_text(state.status)
            writer.write(output.Block.of_rows([row], [" ".join(map(repr, state.point.tolist()))]))
    assert last is not None
    status = 0
    if writer is not None:
        status = writer.close()
    else:
        from numdiff_cli import plot

        outcome = "diverged" if last.diverged else "converged" if last.converged else "not converged"

        def draw() -> None:
            data = plot.path_data(expression.function, np.stack(path, axis=1), values)
            plot.draw_path(data, expr, plot_path or "", names, lr, outcome)

        deadline.within(draw, "drawing the path of the descent")
    if last.diverged:
        output.stderr(
            f"Error: gradient descent diverged after {last.index} step{'s' * (last.index != 1)} (f = {last.value:.3g},"
            f" gradient norm {last.gradient_norm:.3g}): the learning rate {lr:g} is too large; try a smaller one,"
            f" e.g. --lr {lr / 10:g}"
        )
        raise click.exceptions.Exit(1)
    if not last.converged:
        output.stderr(
            f"Note: not converged after {last.index} step{'s' * (last.index != 1)} (gradient norm"
            f" {last.gradient_norm:.3g} > --gtol {gtol:g}); raise --steps, or --lr if the steps are too small"
        )
    if status:
        raise click.exceptions.Exit(status)


def _bounded(states: Iterator[Step], steps: int) -> Iterator[Step]:
    """The steps of a descent, computed in batches by a worker thread, all within one deadline for the descent
    (its output included): a descent that would run longer is refused, naming the steps done."""
    until = deadline.now() + deadline.WORK_SECONDS
    done = 0
    while True:
        batch = deadline.within(
            lambda: list(islice(states, BATCH)),
            f"gradient descent of up to {steps} steps ({max(0, done - 1)} done)",
            until,
            "; give fewer --steps, or a larger --lr or --gtol",
        )
        yield from batch
        done += len(batch)
        if len(batch) < BATCH:
            return
