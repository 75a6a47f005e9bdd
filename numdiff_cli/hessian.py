"""The Hessian, now in :mod:`numdiff_cli.numerics.hessian`; these names stay importable from here."""

from numdiff_cli.numerics.hessian import hessian, hessian_directions

__all__ = ["hessian", "hessian_directions"]
