"""The machine a benchmark ran on, as markdown list lines (shared by the benchmark scripts)."""

from __future__ import annotations

import platform
import subprocess

import numdifftools
import numpy as np
import scipy

from numdiff_cli import __version__


def machine(extra: str = "") -> list[str]:
    """CPU model and count from lscpu, the OS, and the versions of Python, numdiff and the peers;
    ``extra`` is appended to the versions line (e.g. ", sympy 1.14.0")."""
    model, cores = "unknown CPU", "?"
    try:
        lines = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout.splitlines()
        fields = {line.split(":", 1)[0].strip(): line.split(":", 1)[1].strip() for line in lines if ":" in line}
        model, cores = fields.get("Model name", model), fields.get("CPU(s)", cores)
    except (OSError, subprocess.CalledProcessError):
        pass
    return [
        f"- Machine: {model}, {cores} CPU(s), {platform.system()} {platform.machine()}",
        f"- Python {platform.python_version()}; numdiff {__version__}, numpy {np.__version__}, "
        f"scipy {scipy.__version__}, numdifftools {numdifftools.__version__}{extra}",
    ]
