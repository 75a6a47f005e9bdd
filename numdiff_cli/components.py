"""An expression of array values written out by components, for sympy: what ``compare`` differentiates.

``sum(x**2)`` at a point ``x=[3,4]`` becomes ``x[0]**2 + x[1]**2`` over the component symbols ``x[0], x[1]``
(the coordinates of :class:`numdiff_cli.bound.Bound`); ``softmax(z)[0]`` becomes
``exp(z[0])/(exp(z[0]) + exp(z[1]) + exp(z[2]))``; fixed values (``--let``) become numbers. Each array function
has its formula here, elementwise functions apply to each element. The size is bounded before any work
(:data:`MAX_COMPONENTS` coordinates) and while writing (:data:`MAX_TERMS` elements written in all).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import sympy as sp

from numdiff_cli.arrays import span
from numdiff_cli.bound import components
from numdiff_cli.errors import ExpressionError
from numdiff_cli.expr import Expression, parse_expression
from numdiff_cli.floats import NonFinite

MAX_COMPONENTS = 1_000  # coordinates of an expression that compare expands (the parser's limit on variables)
MAX_TERMS = 100_000  # elements written while expanding


class _Budget:
    def __init__(self, text: str):
        self.text, self.left = text, MAX_TERMS

    def spend(self, count: int) -> None:
        self.left -= count
        if self.left < 0:
            raise ExpressionError(
                f"invalid expression {self.text!r}: too large to write out by components "
                f"(more than {MAX_TERMS} terms); compare works on smaller arrays"
            )


def _elementwise(function: Callable[..., Any], arrays: list[np.ndarray], budget: _Budget) -> np.ndarray:
    shape = np.broadcast_shapes(*(a.shape for a in arrays))
    budget.spend(max(1, math.prod(shape)) * len(arrays))
    spread = [np.broadcast_to(a, shape) for a in arrays]
    result = np.empty(shape, dtype=object)
    for index in np.ndindex(*shape):
        result[index] = function(*(a[index] for a in spread))
    return result


def _scalar(value: Any) -> np.ndarray:
    result = np.empty((), dtype=object)
    result[()] = value
    return result


def _matmul(a: np.ndarray, b: np.ndarray, budget: _Budget) -> np.ndarray:
    budget.spend(a.size * b.size // max(1, b.shape[0]) + 1)
    vector_a, vector_b = a.ndim == 1, b.ndim == 1
    a2 = a.reshape(1, -1) if vector_a else a
    b2 = b.reshape(-1, 1) if vector_b else b
    result = np.empty((a2.shape[0], b2.shape[1]), dtype=object)
    for i in range(a2.shape[0]):
        for j in range(b2.shape[1]):
            result[i, j] = sp.Add(*(a2[i, k] * b2[k, j] for k in range(a2.shape[1])))
    if vector_a:
        result = result[0]
    if vector_b:
        result = result[..., 0]
    return result


def _item(value: np.ndarray, where: tuple[Any, ...]) -> np.ndarray:
    index = tuple(span(*(int(b) for b in w.args)) if type(w).__name__ == "span" else int(w) for w in where)
    picked = value[index]
    return picked if isinstance(picked, np.ndarray) else _scalar(picked)


def _softmax(values: np.ndarray) -> np.ndarray:
    exps = [sp.exp(v) for v in values.reshape(-1)]
    total = sp.Add(*exps)
    return np.array([e / total for e in exps], dtype=object).reshape(values.shape)


_REDUCTIONS: dict[str, Callable[[list[Any]], Any]] = {
    "array_sum": lambda v: sp.Add(*v),
    "array_prod": lambda v: sp.Mul(*v),
    "array_mean": lambda v: sp.Add(*v) / len(v),
    "array_norm": lambda v: sp.sqrt(sp.Add(*(e**2 for e in v))),
    "array_max": lambda v: sp.Max(*v),
    "array_min": lambda v: sp.Min(*v),
    "array_logsumexp": lambda v: sp.log(sp.Add(*(sp.exp(e) for e in v))),
}


def _expand(node: Any, values: dict[Any, np.ndarray], budget: _Budget) -> np.ndarray:
    if node in values:
        return values[node]
    if not node.args or node.is_Number or isinstance(node, NonFinite):
        return _scalar(node)
    name = type(node).__name__
    if name == "item":
        return _item(_expand(node.args[0], values, budget), node.args[1:])
    args = [_expand(arg, values, budget) for arg in node.args]
    if name in _REDUCTIONS:
        budget.spend(args[0].size)
        return _scalar(_REDUCTIONS[name](list(args[0].reshape(-1))))
    if name == "array_softmax":
        budget.spend(2 * args[0].size)
        return _softmax(args[0])
    if name == "shaped":
        return _elementwise(lambda value, *like: value, args, budget)
    if name == "array_transpose":
        return args[0].T
    if name == "array_matmul" or (name == "array_dot" and args[0].ndim and args[1].ndim):
        return _matmul(args[0], args[1], budget)
    if name == "array_dot":
        return _elementwise(sp.Mul, args, budget)
    if isinstance(node, sp.Add):
        return _elementwise(sp.Add, args, budget)
    if isinstance(node, sp.Mul):
        return _elementwise(sp.Mul, args, budget)
    return _elementwise(node.func, args, budget)


def expanded(expression: Any) -> Expression:
    """``expression`` (a :class:`~numdiff_cli.bound.Bound`, or a parsed expression with array values taken as
    scalars) written out by components over its coordinates ``expression.names``.

    Raises
    ------
    ExpressionError
        Too many coordinates (checked first) or terms, or a value that is not one number.
    """
    names = tuple(expression.names)
    if len(names) > MAX_COMPONENTS:
        raise ExpressionError(
            f"compare writes the expression out by components: {len(names)} is more than {MAX_COMPONENTS}"
        )
    parsed = expression if isinstance(expression, Expression) else expression.expression()
    if parsed is None:
        parsed = parse_expression(expression.text)
    variables = getattr(expression, "variables", {name: () for name in parsed.names})
    fixed = getattr(expression, "fixed", {})
    symbols = {name: sp.Symbol(name, real=True) for name in names}
    values: dict[Any, np.ndarray] = {}
    for name, symbol in zip(parsed.names, parsed.symbols):
        if name in fixed:
            values[symbol] = np.vectorize(sp.Float, otypes=[object])(np.asarray(fixed[name], dtype=float))
        else:
            shape = tuple(variables.get(name, ()))
            cells = [symbols[component] for component in components(name, shape)]
            values[symbol] = np.array(cells + [None], dtype=object)[:-1].reshape(shape)
    try:
        tree = _expand(parsed.tree, values, _Budget(parsed.text))
    except ExpressionError:
        raise
    except Exception as error:
        # A combination that sympy refuses to build once the components are in (Min of an infinite constant and
        # a symbol is not comparable): as when the expression is parsed, an answer rather than an internal error.
        raise ExpressionError(
            f"invalid expression {parsed.text!r}: sympy cannot represent it by components ({type(error).__name__})"
        ) from None
    if tree.shape:
        raise ExpressionError(f"invalid expression {parsed.text!r}: its value is an array of shape {tree.shape}")
    return Expression(parsed.text, tree[()], names, tuple(symbols[name] for name in names), {})
