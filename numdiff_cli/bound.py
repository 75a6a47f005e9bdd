"""An expression of array values bound to the shapes of its variables: checked shapes, coordinates, a function.

An expression such as ``sum(x**2)`` or ``-sum(t*log(softmax(x @ W)))`` is parsed without knowing the shapes of
its variables; its point gives them (``--at x=[3,4]``), and fixed values (``--let t=[0,0,1]``) are given once.
:func:`bind` checks every shape of the generated code against them before anything is evaluated (a mismatch is
one sentence naming the shapes) and gives a :class:`Bound` expression: the same interface as
:class:`numdiff_cli.expr.Expression` for the engine and the commands, whose variables (``names``) are the scalar
coordinates ``x[0], x[1], W[0,0], ...`` of the variables that are not fixed.

Its function maps points of shape ``(n, *batch)`` to the arrays of the variables without a copy (a vector of 3
components at ``B`` points is rows of the points, seen as shape ``(3, B)``) and evaluates the generated code once
for the whole batch (:mod:`numdiff_cli.arrays`): the ``2n`` points of a gradient are one call, never a loop over
components. Works from the cache (no sympy): the shapes are read from the generated code, not from sympy's tree.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

import numpy as np

from numdiff_cli import perturbed, perturbed_arrays
from numdiff_cli.arrays import (
    MAX_COORDINATES,
    MAX_ELEMENTS,
    NO_BOUND,
    SHAPES,
    Shape,
    ShapeError,
    broadcast,
    item_shape,
)
from numdiff_cli.codegen import NUMPY_NAMES, check_code, load_code
from numdiff_cli.errors import ExpressionError, PointError

_ARGUMENT = re.compile(r"\b_(\d+)\b")


class _AsWritten(ast.NodeTransformer):
    """Generated code back in the notation of expressions: ``x[1:]``, ``a @ b``, ``sum(x)``, variable names."""

    def __init__(self, args: tuple[str, ...]):
        self.args = args

    def visit_Name(self, node: ast.Name) -> ast.AST:
        match = _ARGUMENT.fullmatch(node.id)
        return ast.Name(self.args[int(match.group(1))]) if match else node

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        name = getattr(node.func, "id", "")
        if name == "span":
            bounds = [None if _bound(arg) == NO_BOUND else arg for arg in node.args]
            return ast.Slice(*bounds)
        if name == "item":
            where = node.args[1:]
            return ast.Subscript(node.args[0], where[0] if len(where) == 1 else ast.Tuple(where))
        if name == "array_matmul":
            return ast.BinOp(node.args[0], ast.MatMult(), node.args[1])
        if name.startswith("array_"):
            node.func = ast.Name(name[len("array_") :])
        return node


def _bound(node: ast.AST) -> int | None:
    try:
        return _integer(node)
    except ShapeError:
        return None


def _shown(code: str, args: tuple[str, ...]) -> str:
    """Generated code as the user would write it, for messages."""
    try:
        text = ast.unparse(_AsWritten(args).visit(ast.parse(code, mode="eval")))
    except (SyntaxError, RecursionError, ValueError):
        text = code
    return repr(text if len(text) <= 60 else text[:57] + "...")


def _integer(node: ast.AST) -> int:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_integer(node.operand)
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    raise ShapeError("an index must be a whole number")


def code_shape(code: str, args: tuple[str, ...], shapes: Mapping[str, Shape]) -> Shape:
    """The shape of the value of generated ``code`` whose arguments ``_i`` are ``args[i]`` of ``shapes``.

    Bottom-up over the code's syntax tree without recursion (a chain of a thousand additions is that deep).

    Raises
    ------
    ShapeError
        Naming the shapes that do not fit and where.
    """
    tree = check_code(code, len(args), NUMPY_NAMES)
    nodes = list(ast.walk(tree.body))
    functions = {id(node.func) for node in nodes if isinstance(node, ast.Call)}
    spans = {id(node) for node in nodes if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "span"}
    result: dict[int, Shape] = {}
    for node in reversed(nodes):
        try:
            _node_shape(node, result, functions, spans, args, shapes)
        except ShapeError as error:
            where = _shown(ast.unparse(node), args) if len(nodes) < 2_000 else "the expression"
            raise ShapeError(str(error).replace(_WHERE, where)) from None
    return result.get(id(tree.body), ())


_WHERE = "\x00where\x00"


def _node_shape(
    node: ast.AST,
    result: dict[int, Shape],
    functions: set[int],
    spans: set[int],
    args: tuple[str, ...],
    shapes: Mapping[str, Shape],
) -> None:
    """The shape of ``node`` into ``result``, from those of its children (already there)."""

    def of(child: ast.AST) -> Shape:
        return result.get(id(child), ())

    if id(node) in functions or id(node) in spans or not isinstance(node, ast.expr):
        return
    if isinstance(node, ast.Name):
        match = _ARGUMENT.fullmatch(node.id)
        result[id(node)] = tuple(shapes[args[int(match.group(1))]]) if match else ()
        return
    if isinstance(node, ast.Constant):
        return
    name = node.func.id if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) else ""
    what = _WHERE  # named only when a shape does not fit
    if name == "item":
        where: list[tuple[int, ...] | int] = []
        for arg in node.args[1:]:  # type: ignore[attr-defined]
            if id(arg) in spans:
                where.append(tuple(_integer(bound) for bound in arg.args))
            else:
                where.append(_integer(arg))
        result[id(node)] = item_shape(of(node.args[0]), where, what)  # type: ignore[attr-defined]
        return
    children = [child for child in ast.iter_child_nodes(node) if isinstance(child, ast.expr)]
    children += [k.value for k in getattr(node, "keywords", ())]
    if name in SHAPES:
        result[id(node)] = SHAPES[name]([of(arg) for arg in node.args], what)  # type: ignore[attr-defined]
        return
    values = [of(child) for child in children if id(child) not in functions]
    result[id(node)] = broadcast(values, what) if values else ()


def components(name: str, shape: Shape) -> list[str]:
    """``x[0], x[1]`` for a vector, ``W[0,0], W[0,1], ...`` row by row for a matrix, ``y`` for a scalar."""
    if not shape:
        return [name]
    return [f"{name}[{','.join(map(str, index))}]" for index in np.ndindex(*shape)]


@dataclass(frozen=True)
class Bound:
    """An expression of array values with the shapes of its variables known and its fixed values given."""

    text: str
    variables: dict[str, Shape]  # every variable of the expression, fixed ones included -> its shape
    fixed: dict[str, np.ndarray]  # the variables given once (--let) -> value
    args: tuple[str, ...]  # the variable of each argument _0, _1, ... of ``code``
    code: str
    analytic: bool
    value_shape: Shape  # the shape of the expression's value
    names: tuple[str, ...]  # the scalar coordinates, in order
    extra: tuple[str, ...] = ()  # coordinates added by with_variable (the expression does not depend on them)
    parsed: Any = field(default=None, compare=False, repr=False)
    smooth: bool = False  # no kinks: see Expression.smooth
    arrays = True

    @property
    def shapes(self) -> dict[str, Shape]:
        """The variables that are arrays (not fixed), by name: the shape of the gradient with respect to them."""
        return {name: shape for name, shape in self.variables.items() if shape and name not in self.fixed}

    def coordinates(self, variable: str) -> list[int]:
        """The indices in ``names`` of the coordinates of ``variable`` (a variable or one component)."""
        if variable in self.names:
            return [self.names.index(variable)]
        if variable in self.variables and variable not in self.fixed:
            wanted = set(components(variable, self.variables[variable]))
            return [index for index, name in enumerate(self.names) if name in wanted]
        raise KeyError(variable)

    @cached_property
    def function(self) -> Callable[[np.ndarray], np.ndarray]:
        """``F(X)``, ``X`` of shape ``(len(names), *batch)``, values of shape ``(*value_shape, *batch)``; also
        ``F.at_changes`` for a batch of points that each differ from a base point in one coordinate (a gradient's
        batches: :mod:`numdiff_cli.perturbed`, in ``O(size)`` per point instead of ``O(size)`` per element)."""
        raw = load_code(self.code, len(self.args), NUMPY_NAMES)
        first: dict[str, int] = {}
        for index, name in enumerate(self.names):
            base = name.split("[", 1)[0]
            first.setdefault(base, index)
        fixed = {name: np.asarray(value, dtype=float)[..., None] for name, value in self.fixed.items()}
        layout = [(name, first.get(name) or 0, self.variables[name]) for name in self.args]
        width, value_shape = len(self.names), self.value_shape

        def values_of(compute: Callable[[], Any], complex_points: bool, count: int) -> np.ndarray:
            with np.errstate(all="ignore"):
                values = np.asarray(compute())
                if np.iscomplexobj(values) and not complex_points:
                    values = np.where(values.imag == 0, values.real, np.nan)
                elif not np.iscomplexobj(values):
                    values = values.astype(np.float64, copy=False)
            if values.shape != (*value_shape, count):
                values = np.broadcast_to(values, (*value_shape, count))
            return values

        def held(name: str, single: bool) -> np.ndarray:
            return fixed[name].astype(np.float32) if single else fixed[name]  # --dtype float32: fixed values too

        def evaluate(points: np.ndarray) -> np.ndarray:
            points = np.asarray(points)
            batch = points.shape[1:]
            flat = points.reshape(width, math.prod(batch))
            single = points.real.dtype == np.float32
            arguments = [
                held(name, single)
                if name in fixed
                else flat[start : start + math.prod(shape)].reshape(*shape, flat.shape[1])
                for name, start, shape in layout
            ]
            try:
                values = values_of(lambda: raw(*arguments), np.iscomplexobj(points), flat.shape[1])
            except (OverflowError, ZeroDivisionError, ValueError, TypeError):
                values = np.full((*value_shape, flat.shape[1]), np.nan)
            return values.reshape(*value_shape, *batch)

        structured: list[Callable[..., Any]] = []

        def at_changes(changes: perturbed.Changes, budget: float) -> np.ndarray:
            """Values at a batch of one axis; raises what the structured evaluation cannot do (the caller
            evaluates those points densely)."""
            if not structured:
                structured.append(load_code(self.code, len(self.args), perturbed_arrays.names(NUMPY_NAMES)))
            single = changes.base.real.dtype == np.float32
            arguments = [
                held(name, single) if name in fixed else perturbed.variable(changes, start, shape, budget)
                for name, start, shape in layout
            ]
            count = len(changes.value)
            return values_of(lambda: structured[0](*arguments), np.iscomplexobj(changes.base), count)

        return perturbed.Function(evaluate, at_changes, value_shape)

    def with_variable(self, name: str) -> Bound:
        """The same expression with ``name`` as a coordinate it does not depend on (derivative 0)."""
        if name in self.names:
            return self
        if name in self.variables or "[" in name:
            raise ExpressionError(f"{name} is not a coordinate of the expression (its variables: {self.shown_names()})")
        return replace(self, names=(*self.names, name), extra=(*self.extra, name))

    def reordered(self, order: tuple[str, ...]) -> Bound:
        if set(order) != set(self.names) or len(order) != len(self.names):
            raise ExpressionError(f"--vars must list exactly the coordinates: {self.shown_names()}")
        if order != self.names:
            raise ExpressionError("--vars cannot reorder the components of array variables")
        return self

    def shown_names(self) -> str:
        return ", ".join(self.names[:6]) + (", ..." if len(self.names) > 6 else "")

    @property
    def key_text(self) -> str:
        """The text with the shapes and fixed values: what a cached analytic derivative depends on."""
        fixed = {name: value.tolist() for name, value in self.fixed.items()}
        return f"{self.text} with {sorted(self.variables.items())} {sorted(fixed.items())}"

    def expression(self) -> Any:
        """The parsed expression; None when the code came from the cache (numdiff_cli.components parses it)."""
        return self.parsed


def bind(expression: Any, shapes: Mapping[str, Shape], fixed: Mapping[str, np.ndarray]) -> Bound:
    """``expression`` (an :class:`~numdiff_cli.expr.Expression` or a cached ``Compiled``, with array values) with
    its variables' ``shapes`` (those not given: scalars) and ``fixed`` values.

    Raises
    ------
    PointError
        A shape or value for a name that is not a variable, or too many elements.
    ExpressionError
        Shapes that do not fit the expression (one sentence naming them).
    """
    variables = tuple(expression.names)
    for name in (*shapes, *fixed):
        if name not in variables:
            raise PointError(f"{name} is not a variable of the expression (its variables: {', '.join(variables)})")
    full = {name: tuple(shapes.get(name, np.shape(fixed[name]) if name in fixed else ())) for name in variables}
    total = sum(math.prod(shape) for name, shape in full.items() if name not in fixed)
    for name, shape in full.items():
        if math.prod(shape) > MAX_ELEMENTS:
            raise PointError(f"{name} has {math.prod(shape)} elements; the limit is {MAX_ELEMENTS}")
    if total > MAX_COORDINATES:
        raise PointError(
            f"the variables have {total} elements together; the limit is {MAX_COORDINATES} "
            f"(values held with --let may have up to {MAX_ELEMENTS})"
        )
    code = getattr(expression, "code", None)
    args = tuple(getattr(expression, "args", variables))
    if code is None:
        from numdiff_cli.codegen import numpy_code

        code = numpy_code(expression.tree, expression.symbols)
    try:
        value_shape = code_shape(code, args, full)
    except ShapeError as error:
        shown = expression.text if len(expression.text) <= 60 else expression.text[:57] + "..."
        raise ExpressionError(f"invalid expression {shown!r}: {error}") from None
    free = [name for name in variables if name not in fixed]
    order = sorted(free, key=lambda name: not full[name])  # arrays first, then scalars, each in variable order
    names = tuple(component for name in order for component in components(name, full[name]))
    parsed = expression if hasattr(expression, "tree") else getattr(expression, "parsed", None)
    return Bound(
        expression.text,
        full,
        dict(fixed),
        args,
        code,
        expression.analytic,
        value_shape,
        names,
        (),
        parsed,
        expression.smooth,
    )
