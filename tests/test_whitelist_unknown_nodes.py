"""The parser's whitelist refuses what it does not know: node types and operators that this Python does not have.

Every node type and operator of Python 3.11 is either built or named in the builder's tables, so these refusals
cannot be reached from text here. Newer Pythons add node types (3.14's template strings, ``t"..."``, parse to
``TemplateStr`` nodes): the walk must refuse them as it refuses any other, in one line naming the node. These tests
hand the builder nodes of types made up for the purpose.
"""

from __future__ import annotations

import ast

import pytest

from numdiff_cli.builder import Builder
from numdiff_cli.errors import ExpressionError


class Novel(ast.expr):
    """A kind of expression node no Python has."""

    _fields = ()


class NovelOperator(ast.operator):
    """A binary operator no Python has."""


class NovelSign(ast.unaryop):
    """A unary operator no Python has."""


def refusal(node: ast.expr) -> str:
    # The text and its column map as parse_expression makes them for 'x + y'; each node says where it starts.
    text = "x + y"
    builder = Builder(text, list(range(len(text))), arrays=False)
    with pytest.raises(ExpressionError) as caught:
        builder.build(node, 0)
    return str(caught.value)


def name(identifier: str, offset: int) -> ast.Name:
    return ast.Name(id=identifier, ctx=ast.Load(), lineno=1, col_offset=offset)


def test_an_unknown_kind_of_node_is_refused_by_its_name() -> None:
    node = Novel(lineno=1, col_offset=0)
    assert refusal(node) == "invalid expression 'x + y': 'Novel' nodes are not allowed (column 1)"


def test_an_unknown_binary_operator_is_refused_before_its_operands_are_built() -> None:
    # Its operands are names the whitelist refuses ('_a'): the operator is refused first, at its own column (a
    # binary operation starts where its left operand does: here the 'y' of 'x + y', column 5).
    node = ast.BinOp(left=name("_a", 4), op=NovelOperator(), right=name("_b", 4), lineno=1, col_offset=4)
    assert refusal(node) == "invalid expression 'x + y': this operator is not supported (column 5)"


def test_an_unknown_unary_operator_is_refused_with_a_placeholder_for_its_symbol() -> None:
    node = ast.UnaryOp(op=NovelSign(), operand=name("_a", 1), lineno=1, col_offset=0)
    assert refusal(node) == "invalid expression 'x + y': operator '?' is not supported (column 1)"
