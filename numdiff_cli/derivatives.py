"""The engine applied to parsed expressions: a derivative along one variable, the shape of a gradient, and the
Jacobian of several expressions over their variables taken together.

The engine works on functions of arrays; these functions know about :class:`~numdiff_cli.expr.Expression`
(variable names, matrix variables) and about ``--dtype``, and nothing about the command line.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from numdiff_cli import engine
from numdiff_cli.errors import OptionError

if TYPE_CHECKING:
    # Only for types: expr imports sympy, which a cached expression never needs.
    from numdiff_cli.expr import Expression


def derivative_of(
    expression: Expression,
    X: np.ndarray,
    var: str,
    *,
    order: int,
    method: str,
    step: float | None,
    dtype: str = "float64",
) -> engine.Estimate:
    """The derivative of ``order`` by ``var`` at the points ``X`` (shape ``(m, n)``), the others held fixed.

    In float64 it is the engine's (:func:`~numdiff_cli.engine.derivative` for one variable, else
    :func:`~numdiff_cli.engine.partial`), checking the user's step and looking for kinks; in another ``dtype``
    it is :func:`numdiff_cli.lessons.single_precision`. An analytic expression lets ``auto`` take a second opinion
    on circles in the complex plane where it cannot vouch for its result.
    """
    if dtype != "float64":
        from numdiff_cli.lessons import single_precision

        return single_precision(expression, X, var, order, method, step, dtype)
    function = expression.function
    options: dict[str, Any] = {"check_step": True, "check_kink": True, "analytic": expression.analytic}
    if X.shape[0] == 1:
        return engine.derivative(lambda x: function(x[None]), X[0], order=order, method=method, step=step, **options)
    index = expression.names.index(var)
    return engine.partial(function, X, index=index, order=order, method=method, step=step, **options)


def hessian_of(expression: Expression, X: np.ndarray, *, method: str, step: float | None) -> engine.Estimate:
    """The Hessian at the points ``X`` (shape ``(m, n)``), checking the user's step.

    The engine evaluates only the variables that the expression's code reads: ``x[0] * x[999]**2`` has 1,000
    variables but reads two, and its ``10**6`` lines are built in those two coordinates (the same numbers as
    with all of them, a thousand times faster).
    """
    rows, function = _reading(expression)
    return engine.hessian(
        function, X, method=method, step=step, check_step=True, rows=rows, check_kink=not expression.smooth
    )


def _reading(expression: Expression) -> tuple[np.ndarray | None, Callable[[np.ndarray], np.ndarray]]:
    """The rows of the points that the expression's numpy code reads, and a function of those rows only; all the
    rows and the expression's own function when it reads them all (or is not plain numpy code of its own)."""
    from numdiff_cli.compiled import Compiled

    if not isinstance(expression, Compiled) or expression.arrays:  # array values: bound to the point's shapes
        return None, expression.function
    code, args, names = expression.code, expression.args, list(expression.names)
    read = {int(index) for index in re.findall(r"\b_(\d+)\b", code)}
    rows = np.array(sorted({names.index(args[index]) for index in read if index < len(args)}), dtype=int)
    if len(rows) in (0, len(names)):  # a constant (hessian 0 --vars x) has no row to read: all of them, as given
        return None, expression.function
    from numdiff_cli.codegen import numpy_function

    position = {row: place for place, row in enumerate(rows.tolist())}
    # Arguments that the code does not read are bound to any row (here the first): they are never looked at.
    return rows, numpy_function(code, [position.get(names.index(arg), 0) for arg in args])


def vector_rows(expression: Any) -> list[Callable[[np.ndarray], np.ndarray]]:
    """The elements of an expression whose value is a vector (a bound expression with array values), each as a
    function of the points: the rows of its Jacobian."""
    shape = expression.value_shape
    if len(shape) > 1:
        raise OptionError(f"jacobian of {expression.text!r}: its value has shape {shape}; a vector or a number")
    function = expression.function
    if not shape:
        return [function]

    def element(i: int) -> Callable[[np.ndarray], np.ndarray]:
        return lambda V: function(V)[i]

    return [element(i) for i in range(shape[0])]


def gradient_shape(expression: Expression) -> tuple[int, ...]:
    """A single matrix variable (and nothing else) gives its gradient in the matrix's shape."""
    if len(expression.shapes) == 1:
        (shape,) = expression.shapes.values()
        if len(shape) > 1 and math.prod(shape) == len(expression.names):
            return shape
    return (len(expression.names),)


def union_variables(
    expressions: Sequence[Expression], var_order: tuple[str, ...] | None
) -> tuple[list[str], dict[str, tuple[int, ...]]]:
    """The variables of several expressions together: indexed components (each base in the largest shape any
    expression gives it), then plain names, in natural order; or ``var_order``, which must list them all."""
    from numdiff_cli.builder import natural_key

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


@dataclass(frozen=True)
class Jacobian:
    """The Jacobian of ``k`` functions of ``m`` variables at ``n`` points.

    ``value``, ``error`` and ``status`` have shape ``(k, m, n)`` (zero and :data:`~numdiff_cli.engine.OK` where a
    function does not depend on a variable); ``error`` is ``None`` when no function has an error estimate.
    """

    value: np.ndarray
    error: np.ndarray | None
    status: np.ndarray


def jacobian_of(
    functions: Sequence[Callable[[np.ndarray], np.ndarray]],
    columns: Sequence[Sequence[int]],
    X: np.ndarray,
    *,
    method: str,
    step: float | None,
    analytic: bool = False,
    smooth: bool = False,
) -> Jacobian:
    """The Jacobian at the points ``X`` (shape ``(m, n)``), one :func:`~numdiff_cli.engine.gradient` per function.

    ``functions[i]`` takes the rows ``columns[i]`` of ``X`` (its own variables, in its own order). ``analytic``:
    every function is (see :func:`~numdiff_cli.engine.derivative`). Kinks are looked for unless every function is
    ``smooth`` (:attr:`~numdiff_cli.expr.Expression.smooth`).
    """
    estimate = engine.jacobian(
        functions,
        X,
        columns=columns,
        method=method,
        step=step,
        check_step=True,
        analytic=analytic,
        check_kink=not smooth,
    )
    used = np.zeros(estimate.value.shape[:2], dtype=bool)
    for k, index in enumerate(columns):
        used[k, list(index)] = True
    # (The error of a method that gives none is NaN, except for the entries of variables a function does not use.)
    any_error = not np.isnan(estimate.error[used]).all()
    return Jacobian(estimate.value, estimate.error if any_error else None, estimate.status)
