"""What a variable name probably meant: a function glued to its argument (``sinx`` for ``sin(x)``).

Imports nothing but the table of functions (no sympy), so a cached run, which never parses, still points it out.
The other typo, an unknown function, is answered by the parser (:func:`numdiff_cli.builder.unknown_function`).
"""

from __future__ import annotations

import re

from numdiff_cli.functions import FUNCTIONS

_GLUED_ARGUMENT = re.compile(r"[A-Za-z]\d*")  # x, y, t, x0: what follows a function name in sinx, expx, logx2


def glued(name: str) -> str | None:
    """``sin(x)`` for a variable named ``sinx`` (a function name glued to a short name), else None."""
    for length in range(len(name) - 1, 1, -1):
        head, tail = name[:length], name[length:]
        if head in FUNCTIONS and _GLUED_ARGUMENT.fullmatch(tail):
            return f"{head}({tail})"
    return None


def glued_notes(names: tuple[str, ...] | list[str]) -> list[str]:
    """One note per variable that reads like a function glued to its argument (it is still a variable)."""
    notes = []
    for name in names:
        meant = glued(name)
        if meant is not None:
            notes.append(f"Note: '{name}' is read as a variable named {name}; did you mean {meant}?")
    return notes
