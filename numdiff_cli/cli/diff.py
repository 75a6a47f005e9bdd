"""``numdiff diff``: the derivative of an expression at many points, with its vectorized JSON and CSV."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

import numdiff_cli.cli.inputs as inputs
import numdiff_cli.cli.output as output
import numdiff_cli.cli.words as words
from numdiff_cli.cli.options import DTYPE, HOW, TARGET, VIEW, How, Target, View
from numdiff_cli.contract import KEYS

if TYPE_CHECKING:
    import numpy as np

    from numdiff_cli.engine import Estimate
    from numdiff_cli.points import Chunk


@click.command()
@click.argument("expr")
@TARGET
@HOW
@DTYPE
@click.option("--explain", is_flag=True, help="After the result, show the formula evaluated with the actual numbers.")
@VIEW
def diff(expr: str, target: Target, how: How, dtype: str, explain: bool, view: View) -> None:
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
    from numdiff_cli.derivatives import derivative_of

    order, method, step, fmt = target.order, how.method, how.step, view.fmt
    parsed = inputs.bind(inputs.expression(expr, view.var_order, view.no_cache), target.at, target.lets)
    expression, var = inputs.single_variable(parsed, target.wrt)
    inputs.check_method(method, order=order, analytic=expression.analytic, dtype=dtype)
    chunks = inputs.points(expression, target.at, target.range_text, order)
    explanation = ""
    if explain:
        from numdiff_cli.lessons import explanation as explain_text

        chunks_list, point = inputs.single_point(chunks, "--explain")
        chunks = iter(chunks_list)
        explanation = "\n" + explain_text(expression, point, var, order, method, step, dtype)

    def compute(chunk: Chunk) -> output.Block:
        X = chunk.values
        estimate = derivative_of(expression, X, var, order=order, method=method, step=step, dtype=dtype)

        def row(j: int) -> dict[str, Any]:
            result = {
                "expr": expr,
                "var": var,
                "at": output.point_of(expression, X[:, j]),
                "order": order,
                "method": estimate.method,
                "h": float(estimate.step[j]),
                "derivative": float(estimate.value[j]),
                "error": float(estimate.error[j]),
            }
            if dtype != "float64":
                result["dtype"] = dtype
            return result

        warnings = words.flagged(estimate.status, lambda j: output.point_of(expression, X[:, j]), dtype)
        block = output.Block(X.shape[1], row, lambda: list(map(repr, estimate.value.tolist())), warnings)
        if dtype == "float64" and len(expression.names) == 1 and not expression.shapes:
            block.fast["json"] = lambda block: _json(block, expr, var, order, X[0], estimate)
            block.fast["csv"] = lambda block: _csv(block, expr, var, order, X[0], estimate)
        return output.mark_bad(chunk, block)

    keys = KEYS["diff"] if dtype == "float64" else (*KEYS["diff"], "dtype")
    try:
        output.run(chunks, compute, fmt, keys, output.derivative_title(order, var, expr), total=target.total)
    finally:
        if explain:
            # Machine-readable formats keep stdout clean: the explanation goes to stderr there.
            click.echo(explanation, err=fmt in ("json", "csv"), nl=False)


def _numbers(values: np.ndarray, missing: str) -> list[str]:
    """``repr`` of each float, ``missing`` for the non-finite ones: the numbers of a JSON or CSV line."""
    import math

    import numpy as np

    if np.isfinite(values).all():
        return list(map(repr, values.tolist()))
    return [repr(v) if math.isfinite(v) else missing for v in values.tolist()]


def _json(block: output.Block, expr: str, var: str, order: int, at: np.ndarray, estimate: Estimate) -> list[str]:
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


def _csv(block: output.Block, expr: str, var: str, order: int, at: np.ndarray, estimate: Estimate) -> list[str]:
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
            lines.append(csv_lines([block.full_row(j)], KEYS["diff"], False).rstrip("\n"))
        else:
            lines.append(f"{head}{a},{method},{h},{d},{e},")
    return lines
