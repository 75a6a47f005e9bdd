"""The sympy classes of array functions (``sum``, ``softmax``, ``@``, an index or slice): unevaluated nodes that
print themselves as calls of :mod:`numdiff_cli.arrays`, with what sympy may assume of their values."""

from __future__ import annotations

import functools
from collections.abc import Callable
from types import ModuleType
from typing import Any


@functools.cache
def array_class(sp: ModuleType, generated: str, nargs: int | None) -> Any:
    """The sympy class of an array function: an unevaluated node printed as a call of ``arrays.<generated>``
    (``nargs`` None: any number of arguments)."""

    def _numpycode(self: Any, printer: Any) -> str:
        return f"{generated}({', '.join(printer._print(arg) for arg in self.args)})"

    namespace = {"_numpycode": _numpycode, "__module__": __name__, **_assumptions(generated)}
    return type(generated, (sp.Function,), namespace if nargs is None else {**namespace, "nargs": nargs})


# Array functions whose every element is real, positive or nonnegative exactly where every element of their first
# argument is (and not so where it is not): a sum, a mean, an element or slice, a transpose, a broadcast. (Not
# max(x) and min(x): their nodes are not smooth themselves, so that no expression with them is. A product keeps
# only what holds: of negative elements it is positive or negative by their count.)
_KEEPS_SIGN = frozenset({"array_sum", "array_mean", "item", "array_transpose", "shaped"})


def _assumptions(generated: str) -> dict[str, Callable[[Any], bool | None]]:
    """What sympy may assume of the values of an array function from its arguments (its ``_eval_is_*`` methods), so
    that it can prove the arguments of ``log(1 + sum(x**2))`` and ``log(softmax(z))`` positive: the kink test then
    skips them (:attr:`~numdiff_cli.expr.Expression.smooth`). sympy takes None for "unknown", and acts on the rest
    while it builds the tree (``abs`` of a value it knows negative is its negative): a wrong False is a wrong
    function, not only a wrong exemption."""

    def first(assumption: str) -> Callable[[Any], bool | None]:
        return lambda node: getattr(node.args[0], assumption)

    def first_if_true(assumption: str) -> Callable[[Any], bool | None]:
        return lambda node: getattr(node.args[0], assumption) or None

    def real(node: Any) -> bool | None:
        return True if all(argument.is_real for argument in node.args) else None

    if generated in _KEEPS_SIGN:
        return {f"_eval_is_{name}": first(f"is_{name}") for name in ("real", "positive", "nonnegative")}
    if generated == "array_prod":
        return {f"_eval_is_{name}": first_if_true(f"is_{name}") for name in ("real", "positive", "nonnegative")}
    if generated == "array_softmax":
        return {"_eval_is_real": real, "_eval_is_positive": real}
    if generated == "array_norm":
        return {"_eval_is_real": real, "_eval_is_nonnegative": real}
    if generated in ("array_logsumexp", "array_matmul", "array_dot"):
        return {"_eval_is_real": real}
    return {}


def operator_class(sp: ModuleType, generated: str) -> Any:
    """The sympy class of ``@`` (``array_matmul``), of an index or slice (``item``), of a slice (``span``), and
    of a value kept in the shape of variables that cancelled out of it (``shaped``)."""
    return array_class(sp, generated, {"array_matmul": 2, "span": 3}.get(generated))
