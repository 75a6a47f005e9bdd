"""The array syntax of the parser: indices and slices of array values, and the check that sympy kept a variable.

A mixin of :class:`numdiff_cli.builder.Builder` (which provides ``fail``, ``build``, ``count`` and ``plain``):
``x[0]``, ``W[1, 2]``, ``x[1:]``, ``W[:, -1]`` of an expression with array values (see
:func:`numdiff_cli.expr.array_mode`) build an ``item`` node of :mod:`numdiff_cli.functions`, whose shape is checked
at the point (:mod:`numdiff_cli.bound`). Indices and slice bounds are integer literals, at most two per subscript.
"""

from __future__ import annotations

import ast
from typing import Any

import sympy as sp

from numdiff_cli.array_nodes import operator_class
from numdiff_cli.arrays import NO_BOUND
from numdiff_cli.errors import ExpressionError

MAX_INDEX = 100_000  # the largest index or slice bound, and of indexed names (x[3]) of the builder


# The functions of the text whose value has a shape of its own (a reduction: one number), and those whose value is
# an elementwise leaf of its own (its shape is not that of its arguments); the same for the nodes they build.
_REDUCTIONS = frozenset({"sum", "prod", "mean", "norm", "logsumexp"})
_LEAF_CALLS = frozenset({"transpose", "dot"})
_REDUCING_NODES = frozenset(
    {"array_sum", "array_prod", "array_mean", "array_norm", "array_logsumexp", "array_max", "array_min"}
)
_LEAF_NODES = frozenset({"item", "array_matmul", "array_transpose", "array_dot"})


def _reduces(node: ast.AST) -> bool:
    """A call of a reduction in the text (max and min of one argument too)."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
        return False
    return node.func.id in _REDUCTIONS or (node.func.id in ("max", "min") and len(node.args) == 1)


def leaf_of_text(node: ast.AST) -> bool:
    """Whether the text ``node`` builds an elementwise leaf (see ``ArraySyntax.keeps_variables``): an element or
    slice, a matrix product, a transpose, a dot product."""
    if isinstance(node, ast.Subscript) or (isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult)):
        return True
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _LEAF_CALLS


def _elementwise_leaves(value: sp.Expr) -> set[sp.Expr]:
    """The variables and leaf nodes of ``value`` that no reducing node encloses."""
    found: set[sp.Expr] = set()
    pending = [value]
    while pending:
        node = pending.pop()
        kind = type(node).__name__
        if isinstance(node, sp.Symbol) or kind in _LEAF_NODES:
            found.add(node)
        elif kind not in _REDUCING_NODES:
            pending.extend(node.args)
    return found


class ArraySyntax:
    """Subscripts of array values, for the parser's walk."""

    plain: dict[str, sp.Symbol]
    # The values built from the text's leaves (leaf_of_text), by the id of their node.
    leaves: dict[int, sp.Expr]

    def fail(self, node: ast.AST, reason: str) -> ExpressionError:
        raise NotImplementedError

    def build(self, node: ast.AST, depth: int) -> sp.Expr:
        raise NotImplementedError

    def count(self, node: ast.AST) -> None:
        raise NotImplementedError

    def keeps_variables(self, written: Any, built: list[sp.Expr]) -> list[sp.Expr]:
        """The arguments ``built`` of an array function or operator (or the whole expression), each in the shape of
        the text it was built from, even where sympy cancelled the terms that gave it that shape: ``sum(x - x + 1)``
        is the number of elements of x, and ``sum(x - x + mean(x))`` twice the mean of two, as in numpy.

        The shape of a value is the broadcast of those of its elementwise leaves: the variables, elements and
        slices, matrix products and transposes that no reduction (``sum``, ``mean``, ``x[0]``, ...) encloses. A leaf
        of the text that is no longer one of the value (cancelled, or left only inside a reduction) is kept by a
        ``shaped`` node, which broadcasts the value to its shape."""
        kept = []
        for source, value in zip(written, built):
            present = _elementwise_leaves(value)
            lost = []
            for leaf in self.written_leaves(source):
                if leaf not in present and leaf not in lost:
                    lost.append(leaf)
            if lost:
                value = operator_class(sp, "shaped")(value, *lost)
            kept.append(value)
        return kept

    def written_leaves(self, source: ast.AST) -> list[sp.Expr]:
        """The elementwise leaves of the text ``source`` (see :meth:`keeps_variables`), as they were built."""
        leaves: list[sp.Expr] = []
        pending = [source]
        while pending:
            node = pending.pop()
            if isinstance(node, ast.Name) and node.id in self.plain:
                leaves.append(self.plain[node.id])
            elif id(node) in self.leaves:
                leaves.append(self.leaves[id(node)])
            elif not _reduces(node):
                pending.extend(ast.iter_child_nodes(node))
        return [leaf for leaf in leaves if leaf.free_symbols]

    def item(self, node: ast.Subscript, depth: int) -> sp.Expr:
        """``x[0]``, ``W[1, 2]``, ``x[1:]``, ``W[:, 0]``: an element, row, column or slice of an array value.

        Indices and slice bounds are whole numbers written as such (negative ones count from the end); the shape
        check at the point refuses those out of range.
        """
        (value,) = self.keeps_variables((node.value,), [self.build(node.value, depth + 1)])
        parts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        if len(parts) > 2:
            raise self.fail(node, "at most two indices (vectors and matrices)")
        where: list[sp.Expr] = []
        for part in parts:
            self.count(part)
            if isinstance(part, ast.Slice):
                bounds = [self.whole_number(node, bound) for bound in (part.lower, part.upper, part.step)]
                if bounds[2] == 0:
                    raise self.fail(node, "slice step cannot be zero")
                where.append(operator_class(sp, "span")(*(sp.Integer(b) for b in bounds)))
            else:
                # (An index is never left out: whole_number gives NO_BOUND only for a missing slice bound.)
                where.append(sp.Integer(self.whole_number(node, part)))
        return operator_class(sp, "item")(value, *where)

    def whole_number(self, node: ast.AST, part: ast.expr | None) -> int:
        """An index or slice bound: an integer literal, optionally negative; NO_BOUND when left out."""
        if part is None:
            return NO_BOUND
        negative = isinstance(part, ast.UnaryOp) and isinstance(part.op, ast.USub)
        literal = part.operand if isinstance(part, ast.UnaryOp) and negative else part
        if not (isinstance(literal, ast.Constant) and type(literal.value) is int):
            raise self.fail(node, "indices and slice bounds must be whole numbers, as in x[0], x[1:], W[:, -1]")
        if literal.value > MAX_INDEX:
            raise self.fail(node, f"index larger than {MAX_INDEX}")
        return -literal.value if negative else literal.value
