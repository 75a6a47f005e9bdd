"""Finite differences at chosen steps and precisions, now in :mod:`numdiff_cli.numerics.sweep`; these names stay
importable from here."""

from numdiff_cli.numerics.sweep import (
    DTYPES,
    KINDS,
    Terms,
    epsilon,
    explain,
    finite_difference,
    nearest_step,
    optimal_step,
    sweep,
    sweep_steps,
    truncation_term,
)

__all__ = [
    "DTYPES",
    "KINDS",
    "Terms",
    "epsilon",
    "explain",
    "finite_difference",
    "nearest_step",
    "optimal_step",
    "sweep",
    "sweep_steps",
    "truncation_term",
]
