"""Time and peak memory of ``numdiff hessian`` as the number of variables grows.

Run ``python benchmarks/hessian_memory.py`` (prints a markdown table). Each size runs as its own process of the
installed command; its peak resident set size comes from the operating system's accounting of that process
(``os.wait4``), so the table measures the whole command: parsing, the Hessian and writing the result.
The expression ``x[0] * x[n-1]**2`` has ``n`` variables (the components ``x[0] ... x[n-1]``), as in the issue's
``hessian "x[399]"``: the cost is the ``n**2`` directions of ``n`` coordinates each, whatever the expression.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time

import numpy as np

from numdiff_cli import __version__

SIZES = (100, 300, 1000)


def expression(n: int) -> str:
    return f"x[0]*x[{n - 1}]**2"


def measure(n: int) -> tuple[float, float, int]:
    """Seconds, peak RSS in MB and exit status of one ``numdiff hessian`` with ``n`` variables."""
    point = ",".join(str(0.5 + (i % 7) / 10) for i in range(n))
    command = [sys.executable, "-m", "numdiff_cli", "hessian", expression(n), "--at", point, "--format", "json"]
    env = {**os.environ, "NUMDIFF_NO_CACHE": "1"}
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    # ru_maxrss is in kilobytes on Linux, bytes on macOS.
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024
    return seconds, usage.ru_maxrss / scale, os.waitstatus_to_exitcode(status)


def main() -> None:
    print("`numdiff hessian` at one point of n variables\n")
    print(
        f"- {platform.system()} {platform.machine()}, {os.cpu_count()} CPU(s); Python {platform.python_version()},"
        f" numdiff {__version__}, numpy {np.__version__}\n"
    )
    print("| n | Hessian entries | time (s) | peak RSS (MB) | exit |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    for n in SIZES:
        seconds, megabytes, status = measure(n)
        print(f"| {n} | {n * n:,} | {seconds:.1f} | {megabytes:.0f} | {status} |", flush=True)


if __name__ == "__main__":
    main()
