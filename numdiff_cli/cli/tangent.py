"""``numdiff tangent``: the tangent line (one variable) or plane (several) at points, and its picture."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

import numdiff_cli.cli.inputs as inputs
import numdiff_cli.cli.output as output
import numdiff_cli.cli.terminal as terminal
import numdiff_cli.cli.words as words
from numdiff_cli import deadline
from numdiff_cli.cli.options import AT, HOW, PLOT, VIEW, How, LimitsType, View
from numdiff_cli.contract import KEYS
from numdiff_cli.errors import OptionError

if TYPE_CHECKING:
    import numpy as np

    from numdiff_cli.points import Chunk


@click.command()
@click.argument("expr")
@AT
@HOW
@PLOT
@click.option(
    "--xlim",
    type=LimitsType(),
    metavar="A,B",
    help="The x interval of the picture (--plot, or the text plot on a terminal); default: where f leaves its tangent.",
)
@VIEW
def tangent(
    expr: str,
    at: tuple[str, ...],
    how: How,
    plot_path: str | None,
    xlim: tuple[float, float] | None,
    view: View,
) -> None:
    """Tangent line of EXPR at a point (the tangent plane for several variables).

    --plot FILE.png draws f and its tangent lines around the points (one variable), over a window where the
    curve visibly leaves each tangent (or --xlim A,B).

    \b
    Examples:
      numdiff tangent "0.01*x**2 + 0.1*x" --at 5
      numdiff tangent "x**2 + y**2" --at 1,2 --format json
      numdiff tangent "1/x" --at 0.5 --xlim 0.1,2 --format plain
    """
    import math

    from numdiff_cli import tangents

    method, step, fmt = how.method, how.step, view.fmt

    expression = inputs.bind(inputs.expression(expr, view.var_order, view.no_cache), at)
    if not expression.names:
        expression = expression.with_variable("x")
    inputs.check_method(method, analytic=expression.analytic)
    names = expression.names
    univariate = len(names) == 1 and not expression.shapes
    if plot_path is not None:
        import numpy as np

        from numdiff_cli import plot

        chunks = inputs.points(expression, at, None)
        plot.require()
        if not univariate:
            raise OptionError("tangent --plot draws expressions of one variable")
        parts: list[np.ndarray] = []
        for chunk in chunks:  # stops reading at the 11th point: a long input is never held whole
            parts.append(chunk.values)
            if sum(part.shape[1] for part in parts) > 10:
                raise OptionError("tangent --plot draws at most 10 tangent lines; give fewer points")
        X = np.concatenate(parts, axis=1)
        deadline.within(
            lambda: tangents.draw_picture(
                expression.function, X, method, step, expression.text, plot_path, names[0], xlim
            ),
            "drawing the tangent lines",
        )
        return

    def compute(chunk: Chunk) -> output.Block:
        X = chunk.values
        values = expression.function(X)
        estimate = tangents.slopes(
            expression.function, X, method=method, step=step, analytic=expression.analytic, smooth=expression.smooth
        )
        rows, plain = [], []
        for j in range(X.shape[1]):
            value = float(values[j])
            slopes = estimate.value[:, j].tolist()
            row: dict[str, Any] = {"expr": expr, "at": output.point_of(expression, X[:, j]), "value": value}
            if univariate:
                intercept, equation = tangents.line(value, slopes[0], float(X[0, j]), names[0])
                row.update(slope=slopes[0], intercept=intercept, equation=equation)
            else:
                equation = tangents.plane(value, slopes, X[:, j].tolist(), names)
                row.update(gradient=slopes, equation=equation)
            warning = words.first_warning(estimate.status, j, names=names) or (
                None if math.isfinite(value) else "the function is not finite here"
            )
            if not warning and univariate and not math.isfinite(row["intercept"]):
                warning = "the intercept (value - slope * x) overflows: it is larger than the largest double"
            if warning:
                row["warning"] = warning
            rows.append(row)
            plain.append(equation)
        return output.mark_bad(chunk, output.Block.of_rows(rows, plain))

    keys = KEYS["tangent"] if univariate else KEYS["tangent-plane"]
    chunks = inputs.points(expression, at, None)
    if not univariate:
        output.run(chunks, compute, fmt, keys, f"tangent of {expr}", expr=expr, method=method)
        return
    seen: list[np.ndarray] = []

    def remember(chunk: Chunk) -> output.Block:
        seen.append(chunk.values[0])
        return compute(chunk)

    def draw() -> str:
        import numpy as np

        points = np.concatenate(seen)[:10]
        return tangents.text_picture(expression.function, points, method, step, names[0], xlim)

    terminal.run_then_draw(
        lambda: output.run(chunks, remember, fmt, keys, f"tangent of {expr}", expr=expr, method=method), draw, fmt
    )
