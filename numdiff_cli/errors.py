"""Exceptions raised for bad input; the CLI maps them to exit codes in one place."""

from __future__ import annotations


class NumdiffError(Exception):
    """Base class: a problem with the user's input, reported as one line, exit status 2."""

    exit_code = 2


class ExpressionError(NumdiffError):
    """The expression text is malformed, unsafe or outside the supported language."""


class PointError(NumdiffError):
    """A point (from ``--at``, ``--range`` or standard input) cannot be read."""


class OptionError(NumdiffError):
    """Options that cannot be used together, or that do not fit the expression."""
