"""numdiff: numerical derivatives, gradients and tangent lines from the command line."""

__version__ = "0.1.0"
