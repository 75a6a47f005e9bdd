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


class ArraySyntax:
    """Subscripts of array values, for the parser's walk."""

    plain: dict[str, sp.Symbol]

    def fail(self, node: ast.AST, reason: str) -> ExpressionError:
        raise NotImplementedError

    def build(self, node: ast.AST, depth: int) -> sp.Expr:
        raise NotImplementedError

    def count(self, node: ast.AST) -> None:
        raise NotImplementedError

    def keeps_variables(self, written: Any, built: list[sp.Expr]) -> list[sp.Expr]:
        """The arguments ``built`` of an array function or operator, each in the shape of its variables even when
        sympy cancelled some of them (``sum(x - x + 1)`` is the number of elements of x, as in numpy)."""
        kept = []
        for source, value in zip(written, built):
            names = {n.id for n in ast.walk(source) if isinstance(n, ast.Name) and n.id in self.plain}
            lost = sorted(names - {symbol.name for symbol in value.free_symbols})
            if lost:
                value = operator_class(sp, "shaped")(value, *(self.plain[name] for name in lost))
            kept.append(value)
        return kept

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
                index = self.whole_number(node, part)
                if index == NO_BOUND:
                    raise self.fail(node, "an index must be a whole number")
                where.append(sp.Integer(index))
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
