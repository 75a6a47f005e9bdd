"""A linear pass over the tokens of an expression that bounds its nesting before Python's parser sees it.

Python's parser and its ``ast`` recurse once per level of nesting and once per operation of a chain such as
``a+b+c+...``; on deep input they fail with RecursionError or MemoryError (and older versions crash). This pass is
a shunting-yard without recursion, so it can refuse such input with a clear message and a column first.
"""

from __future__ import annotations

import re

# Tokens of the expression language, for the structure check that runs before Python's parser.
_TOKEN = re.compile(
    r"\s*(?:(?P<number>(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][+-]?\d+)?)|(?P<name>[A-Za-z_]\w*)"
    r"|(?P<op>\*\*|//|[-+*/%@~])|(?P<open>[(\[])|(?P<close>[)\]])|(?P<comma>,)|(?P<other>\S))"
)
# Binary operator -> (precedence, right-associative), as in Python; unary signs sit between * and **.
_BINARY = {"+": (1, False), "-": (1, False), "*": (2, False), "/": (2, False), "//": (2, False), "%": (2, False)}
_BINARY |= {"@": (2, False), "**": (4, True)}
_UNARY = 3


class _Malformed(Exception):
    """The token sequence is not a well-formed expression: the structure check stops, the parser reports it."""


class _TooDeep(Exception):
    def __init__(self, reason: str, column: int):
        self.reason, self.column = reason, column


def check_structure(source: str, origin: list[int], max_depth: int, max_chain: int) -> tuple[str, int] | None:
    """The first nesting or chain limit that ``source`` exceeds, as (reason, column), or None."""
    try:
        _scan(source, origin, max_depth, max_chain)
    except _TooDeep as problem:
        return problem.reason, problem.column
    except _Malformed:
        pass
    return None


def _scan(source: str, origin: list[int], max_depth: int, max_chain: int) -> None:
    """Bound the nesting and the length of operator chains before Python's parser sees the text.

    A shunting-yard pass over the tokens: every open bracket, pending operator and unary sign that encloses a
    token is one level of nesting (a chain a+b+c is one level), limited to ``max_depth``. It also tracks the
    depth of the tree that ``ast`` would build, where every operation of a chain is one more level, limited to
    ``max_chain``. Input that is not a well-formed expression stops the pass; the parser then reports it.
    """
    ops: list[tuple[str, int, int]] = []  # (operator or bracket kind, precedence, column)
    depths: list[int] = []  # ast depth of each operand
    items: list[list[int]] = []  # per open bracket: ast depths of the items read so far
    expect_operand = True

    def reduce() -> None:
        if len(depths) < (1 if ops[-1][0] == "u" else 2):
            raise _Malformed
        op, _, column = ops.pop()
        right = depths.pop()
        if op == "u":
            depths.append(right + 1)
        else:
            depths.append(max(depths.pop(), right) + 1)
        if depths[-1] > max_chain:
            raise _TooDeep(f"more than {max_chain} operations chained without parentheses", column)

    def reduce_to_bracket() -> bool:
        while ops and ops[-1][0] not in ("(", "[", "call", "index"):
            reduce()
        return bool(ops)

    for match in _TOKEN.finditer(source):
        kind = match.lastgroup or "other"
        token = match.group(kind)
        column = origin[match.start(kind)] + 1
        if kind in ("number", "name"):
            if not expect_operand:
                return
            depths.append(1)
            expect_operand = False
        elif kind == "op" and expect_operand:
            if token not in "+-~":
                return
            ops.append(("u", _UNARY, column))
        elif kind == "op":
            if token not in _BINARY:
                return
            precedence, right = _BINARY[token]
            while ops and ops[-1][1] and (ops[-1][1] > precedence or (ops[-1][1] == precedence and not right)):
                reduce()
            ops.append((token, precedence, column))
            expect_operand = True
        elif kind == "open":
            ops.append((("call" if token == "(" else "index") if not expect_operand else token, 0, column))
            items.append([])
            expect_operand = True
        elif kind in ("comma", "close"):
            if not reduce_to_bracket():
                return
            if not expect_operand:
                items[-1].append(depths.pop())
            elif kind == "comma" or items[-1]:
                return
            if kind == "close":
                bracket = ops.pop()[0]
                inner = items.pop()
                tuple_depth = max(inner, default=0) + (len(inner) != 1)
                if bracket in ("call", "index"):
                    # f(a, b): a Call node over the name and the arguments; x[0, 1]: a Subscript over a Tuple.
                    depths.append(max(depths.pop(), max(inner, default=0) if bracket == "call" else tuple_depth) + 1)
                else:
                    depths.append(tuple_depth)
            expect_operand = kind == "comma"
        else:
            return
        if len(ops) > max_depth:
            raise _TooDeep(f"nested deeper than {max_depth} levels", column)
    while ops and not expect_operand and ops[-1][1]:
        reduce()
