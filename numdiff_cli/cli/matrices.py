"""``numdiff hessian`` and ``numdiff jacobian``: a matrix per point (plain output: its rows separated by '; ')."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

import numdiff_cli.cli.inputs as inputs
import numdiff_cli.cli.output as output
import numdiff_cli.cli.words as words
from numdiff_cli.cli.options import AT, HOW, LET, VIEW, How, View
from numdiff_cli.contract import KEYS
from numdiff_cli.errors import OptionError

# The size of a Hessian or Jacobian (as the parser's limit on variables): with array values a variable can have
# more elements, for a gradient; a matrix of them would take O(n**2) memory and O(n**3) time.
MAX_MATRIX = 1_000

if TYPE_CHECKING:
    import numpy as np

    from numdiff_cli.points import Chunk


@click.command()
@click.argument("expr")
@AT
@LET
@HOW
@VIEW
def hessian(
    expr: str,
    at: tuple[str, ...],
    lets: tuple[str, ...],
    how: How,
    view: View,
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

    from numdiff_cli.derivatives import hessian_of

    method, step, fmt = how.method, how.step, view.fmt

    expression = inputs.bind(inputs.expression(expr, view.var_order, view.no_cache), at, lets)
    if not expression.names:
        raise OptionError("the expression has no variables; name them with --vars to get a zero Hessian")
    if len(expression.names) > MAX_MATRIX:
        raise OptionError(f"hessian works on at most {MAX_MATRIX} variables; this has {len(expression.names)}")
    # Second derivatives, whatever the expression: only the order can rule a method out.
    inputs.check_method(method, order=2, order_option=False)
    names = list(expression.names)

    def compute(chunk: Chunk) -> output.Block:
        estimate = hessian_of(expression, chunk.values, method=method, step=step)
        rows, plain = [], []
        for j in range(chunk.values.shape[1]):
            values, errors = estimate.value[..., j], estimate.error[..., j]
            row = {
                "expr": expr,
                "vars": names,
                "at": output.point_of(expression, chunk.values[:, j]),
                "hessian": values.tolist(),
                "error": None if np.isnan(errors).all() else errors.tolist(),
            }
            if warning := words.first_warning(estimate.status, j):
                row["warning"] = warning
            rows.append(row)
            plain.append(_plain_matrix(values))
        return output.mark_bad(chunk, output.Block.of_rows(rows, plain))

    chunks = inputs.points(expression, at, None)
    output.run(chunks, compute, fmt, KEYS["hessian"], f"hessian {expr}", expr=expr, method=method)


@click.command()
@click.argument("exprs", nargs=-1, required=True, metavar="EXPR1 EXPR2 ...")
@AT
@LET
@HOW
@VIEW
def jacobian(
    exprs: tuple[str, ...],
    at: tuple[str, ...],
    lets: tuple[str, ...],
    how: How,
    view: View,
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
    from numdiff_cli.derivatives import jacobian_of, union_variables
    from numdiff_cli.points import point_chunks

    method, step, fmt = how.method, how.step, view.fmt

    expressions = [inputs.expression(text, None, view.no_cache) for text in exprs]
    if len(expressions) == 1 and getattr(expressions[0], "arrays", False):
        # One expression with a vector value (softmax(z)): a row per element.
        from numdiff_cli.derivatives import vector_rows

        vector = inputs.bind(expressions[0], at, lets, scalar=False)
        names, shapes, functions = list(vector.names), vector.shapes, vector_rows(vector)
        expressions = [vector] * len(functions)
        # (Its rows named by the element's index in the flattened value, for warnings.)
        row_names = [f"element {k}" for k in range(len(functions))]
    else:
        arrays = [getattr(expression, "arrays", False) for expression in expressions]
        if lets and not any(arrays):
            inputs.bind(expressions[0], at, lets)  # refuses --let, with the reason
        expressions = [inputs.bind(e, at, lets if array else (), scalar=False) for e, array in zip(expressions, arrays)]
        for expression in expressions:
            value_shape = getattr(expression, "value_shape", ())
            if value_shape:
                shape = str(value_shape).replace(" ", "")
                raise OptionError(
                    f"{expression.text!r} has a value of shape {shape}; with several expressions each is one row and"
                    " needs one number: take sum(...) of it, or give it alone for a row per element"
                )
        names, shapes = union_variables(expressions, view.var_order)
        functions = [expression.function for expression in expressions]
        row_names = list(exprs)
    if not names:
        raise OptionError("the expressions have no variables; name them with --vars to get a zero Jacobian")
    if max(len(names), len(functions)) > MAX_MATRIX:
        raise OptionError(
            f"jacobian works on at most {MAX_MATRIX} variables and rows; this has {len(names)} and {len(functions)}"
        )
    for expression in expressions:
        inputs.check_method(method, analytic=expression.analytic)
    columns = [[names.index(name) for name in expression.names] for expression in expressions]
    analytic = all(expression.analytic for expression in expressions)
    smooth = all(expression.smooth for expression in expressions)
    univariate = len(names) == 1 and not shapes
    if not at:
        raise OptionError("no points: give --at POINT (repeatable), or --at - for standard input")

    # The entries of a row, for its warnings, each expression's in its own variable order (its first warning is the
    # row's): the variable and the expression (along x in abs(x) + y).
    entries = [(k, i) for k, index in enumerate(columns) for i in index]
    entry_names = [f"{names[i]} in {row_names[k]}" for k, i in entries]
    rows_of, columns_of = (list(axis) for axis in zip(*entries)) if entries else ([], [])

    def compute(chunk: Chunk) -> output.Block:
        X = chunk.values
        result = jacobian_of(functions, columns, X, method=method, step=step, analytic=analytic, smooth=smooth)
        rows, plain = [], []
        for j in range(X.shape[1]):
            row: dict[str, Any] = {
                "expr": list(exprs),
                "vars": names,
                "at": float(X[0, j]) if univariate else dict(zip(names, X[:, j].tolist())),
                "jacobian": result.value[..., j].tolist(),
                "error": None if result.error is None else result.error[..., j].tolist(),
            }
            codes = result.status[rows_of, columns_of, j].tolist()
            if warning := words.warning_of(codes, names=entry_names):
                row["warning"] = warning
            rows.append(row)
            plain.append(_plain_matrix(result.value[..., j]))
        return output.mark_bad(chunk, output.Block.of_rows(rows, plain))

    chunks = point_chunks(at, None, tuple(names), shapes, sys.stdin)
    output.run(
        chunks, compute, fmt, KEYS["jacobian"], "jacobian " + ", ".join(exprs), expr=", ".join(exprs), method=method
    )


def _plain_matrix(values: np.ndarray) -> str:
    """``4.0 2.0; 2.0 12.0``: the rows of a matrix on one line."""
    return "; ".join(" ".join(map(repr, row)) for row in values.tolist())
