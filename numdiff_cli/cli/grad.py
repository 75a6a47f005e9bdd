"""``numdiff grad``: the gradient at points, or on a grid (``--field``) with its picture."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import click

import numdiff_cli.cli.inputs as inputs
import numdiff_cli.cli.output as output
import numdiff_cli.cli.terminal as terminal
import numdiff_cli.cli.words as words
from numdiff_cli import deadline
from numdiff_cli.cli.options import AT, HOW, LET, PLOT, VIEW, How, LimitsType, View
from numdiff_cli.contract import KEYS
from numdiff_cli.errors import OptionError

if TYPE_CHECKING:
    from numdiff_cli.expr import Expression
    from numdiff_cli.points import Chunk


@click.command()
@click.argument("expr")
@AT
@click.option(
    "--wrt",
    "wrt",
    multiple=True,
    metavar="NAME",
    help="Differentiate by this variable only (repeatable; the others are held at their values). The gradient "
    "has the shape of the variable.",
)
@LET
@HOW
@click.option("--field", is_flag=True, help="The gradient on a 15x15 grid over --xlim x --ylim (two variables).")
@click.option("--xlim", type=LimitsType(), default="-2,2", show_default=True, help="x range of --field.")
@click.option("--ylim", type=LimitsType(), default="-2,2", show_default=True, help="y range of --field.")
@PLOT
@VIEW
def grad(
    expr: str,
    at: tuple[str, ...],
    wrt: tuple[str, ...],
    lets: tuple[str, ...],
    how: How,
    field: bool,
    xlim: tuple[float, float],
    ylim: tuple[float, float],
    plot_path: str | None,
    view: View,
) -> None:
    """Gradient of a multivariable EXPR, in variable order (or in the shape of a vector or matrix variable).

    --field computes it on a grid instead of at --at points; with --plot FILE.png it draws the arrows of
    -grad f over the contours of f.

    \b
    Examples:
      numdiff grad "x0**2 + 5*x1 + 2*x2**2" --at 3,2,1
      numdiff grad "sum(x**2)" --at 3,4 --at 0,2
      numdiff grad "W[0,0]*W[1,1] - W[0,1]*W[1,0]" --at "[[1,2],[3,4]]"
      numdiff grad "sum(-t*log(softmax(x @ W)))" --wrt W --let "x=[0.6,0.9],t=[0,0,1]" --at "W=[[1,2,3],[4,5,6]]"
      numdiff grad "x*y" --at x=2,y=3 --format json
      numdiff grad "x**2 + 3*y**2" --field --format csv
    """
    import numpy as np

    from numdiff_cli import engine
    from numdiff_cli.derivatives import gradient_shape

    method, step, fmt = how.method, how.step, view.fmt

    expression = inputs.expression(expr, view.var_order, view.no_cache)
    one_array = getattr(expression, "arrays", False) and len(expression.names) - len(lets) == 1
    # --field of a vector variable: a plane of its two components.
    expression = inputs.bind(expression, ("0,0",) if field and one_array else at, lets)
    if not expression.names:
        raise OptionError("the expression has no variables; name them with --vars to get a zero gradient")
    inputs.check_method(method, analytic=expression.analytic)
    shape = gradient_shape(expression)
    rows = [index for name in wrt for index in inputs.coordinates(expression, name)] if wrt else None
    if rows is not None:
        if len(set(rows)) != len(rows):
            raise OptionError("--wrt: a variable is given twice")
        shapes = getattr(expression, "variables", expression.shapes)
        shape = tuple(shapes.get(wrt[0], ())) if len(wrt) == 1 else ()
        shape = shape if shape and len(shape) > 0 else (len(rows),)
        if field:
            raise OptionError("--field differentiates by every variable; leave out --wrt")
    if field and at:
        raise OptionError("--field computes the gradient on a grid; leave out --at")
    if plot_path is not None:
        if not field:
            raise OptionError("grad --plot draws the -grad f field; add --field")
        from numdiff_cli import plot

        plot.require()
        if len(expression.names) != 2:
            raise OptionError("--field needs an expression of two variables")

        def draw_field() -> None:
            data = plot.field_data(expression.function, xlim, ylim, method=method, step=step)
            plot.draw_field(data, expr, plot_path or "", expression.names)

        deadline.within(draw_field, "drawing the gradient field")
        return

    def compute(chunk: Chunk) -> output.Block:
        X = chunk.values
        estimate = engine.gradient(
            expression.function,
            X,
            method=method,
            step=step,
            check_step=True,
            rows=rows,
            analytic=expression.analytic,
            check_kink=not expression.smooth,
        )

        def row(j: int) -> dict[str, Any]:
            values, errors = estimate.value[:, j], estimate.error[:, j]
            return {
                "expr": expr,
                "vars": variables,
                "at": output.point_of(expression, X[:, j]),
                "gradient": values.reshape(shape).tolist(),
                "error": None if np.isnan(errors).all() else errors.reshape(shape).tolist(),
            }

        def plain() -> list[str]:
            return [" ".join(map(repr, values)) for values in estimate.value.T.tolist()]

        variables = list(expression.names) if rows is None else [expression.names[i] for i in rows]
        warnings = words.flagged(estimate.status, lambda j: output.point_of(expression, X[:, j]), names=variables)
        return output.mark_bad(chunk, output.Block(X.shape[1], row, plain, warnings))

    chunks = _field(expression, xlim, ylim) if field else inputs.points(expression, at, None)
    if not field:
        output.run(chunks, compute, fmt, KEYS["grad"], f"grad {expr}", expr=expr, method=method)
        return

    def draw() -> str:
        from numdiff_cli import plot

        where = plot.field_points(xlim, ylim)
        grad = engine.gradient(expression.function, where, method=method, step=step).value
        return f"-grad f on {xlim} x {ylim}, top row: largest {expression.names[1]}\n" + plot.text_field(
            -grad[0], -grad[1], 15
        )

    terminal.run_then_draw(
        lambda: output.run(chunks, compute, fmt, KEYS["grad"], f"grad {expr}", expr=expr, method=method), draw, fmt
    )


def _field(expression: Expression, xlim: tuple[float, float], ylim: tuple[float, float]) -> Iterator[Chunk]:
    """The grid of ``--field``, as one chunk of points."""
    from numdiff_cli.plot import field_points
    from numdiff_cli.points import Chunk

    if len(expression.names) != 2:
        raise OptionError("--field needs an expression of two variables")
    yield Chunk(field_points(xlim, ylim))
