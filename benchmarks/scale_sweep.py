"""Silently wrong results of ``auto`` where a scale measured from five steps can mislead, against mpmath.

Run ``python benchmarks/scale_sweep.py`` (needs the ``bench`` extra; a few seconds). Every result is classified
as benchmarks/honesty.py classifies it (50-digit reference, the conditioning floor near a zero of the derivative) and
the engine is called as the ``diff`` command calls it (kink check, the complex-plane second opinion for analytic
expressions). Prints, per family, the results that are unflagged and beyond the promise (SILENT-WRONG, and LOW:
within 100 times the allowed error), the worst of each family, and one-line commands that reproduce them. Exit
status 1 if any result is SILENT-WRONG.

Families (each a way a per-point scale or step choice can be fooled):

- ``tiny-x``: f built on ``1 + x`` (or cancelling to 0) at tiny |x|: steps of the size of |x| are below what
  ``1 + x + h`` resolves, where f is exactly constant or linear.
- ``small-hf``: a slow function plus a small high-frequency part whose derivative is above the promise: steps
  on the slow part's scale average it out.
- ``large-x``: functions of large |x| with a small part varying on a scale of 1.
- ``poly-part``: a polynomial that dominates f plus a part varying on a scale of 1, at |x| from 100 to 1e5: steps
  on the polynomial's scale average the part away.
- ``dyadic``: a frequency that is a power of two times 2 pi: steps with few bits are whole periods of it.
- ``singular``: poles, branch points and domain edges at distances 1e-12 to 1e3.
- ``narrow``: a bump a thousandth wide (or three) next to x, 5e-4 to 8e-3 from it, on a smooth background: no step
  of the fast pass sees it, the kink test's smallest step must.
- ``argument``: f of ``c*x`` at |x| from 1e3 to 1e7, where f rounds its own argument: ``c*(x + h)`` is rounded the
  same way at every step whose bits ``c*x`` has room for, so that the estimate is the derivative at the point the
  rounding gives, ``f''`` times an ulp of ``c*x`` over c off, which no difference of the steps shows (a known
  limit: tracked here, not yet caught).
"""

from __future__ import annotations

import math
import sys
import time
import warnings
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import honesty as H  # benchmarks/honesty.py, next to this script

from numdiff_cli import engine

rng = np.random.default_rng(2026)
TINY = [1e-300, 1e-100, 1e-30, 1e-20, 1e-17, 1e-16, 1e-14, 1e-12, 1e-10, 1e-8, 1e-6]
TINY_XS = TINY + [-t for t in TINY]
UNIFORM = [float(v) for v in rng.uniform(-3, 3, 8)]
LARGE = [float(v) for v in np.exp(rng.uniform(math.log(1e3), math.log(1e8), 8))]
POLY_XS = [float(v) for v in np.exp(rng.uniform(math.log(1e2), math.log(1e5), 8)) * rng.choice([-1.0, 1.0], 8)]
NARROW_XS = [float(v) for v in np.exp(rng.uniform(math.log(5e-4), math.log(8e-3), 8)) * rng.choice([-1.0, 1.0], 8)]
# (Drawn after the others: their points stay those of the runs before this family.)
ARGUMENT_XS = [float(v) for v in np.exp(rng.uniform(math.log(1e3), math.log(1e7), 24)) * rng.choice([-1.0, 1.0], 24)]
SINGULAR_DISTANCES = [1e-12, 1e-9, 1e-6, 1e-4, 1e-3, 1e-2, 0.1, 0.3, 1.0, 10.0, 1e3]

# (family, expression, points, length for the reference's conditioning floor: the scale on which f varies)
CASES: list[tuple[str, str, list[float], float | None]] = []
for text in (
    "log(1 + x)",
    "log(1 + x) - x",
    "x - log(1 + x)",
    "x*log(1 + x)",
    "log(1 + x)**2",
    "sqrt(1 + x) - 1",
    "sqrt(1 + x) - 1 - x/2",
    "log(1 + x**2)",
    "log(cos(x))",
    "1 - cos(x)",
    "exp(x) - 1 - x",
    "sin(x) - x",
    "x*(1/(1 + x) - 1)",
):
    CASES.append(("tiny-x", text, TINY_XS, None))
for amplitude, frequency in (("1e-13", "100"), ("1e-12", "1000"), ("1e-10", "1000"), ("1e-12", "1e4"), ("1e-12", "10")):
    length = 1 / float(frequency)
    CASES.append(("small-hf", f"x/100 + {amplitude}*cos({frequency}*x)", UNIFORM, length))
    CASES.append(("small-hf", f"1 + x + {amplitude}*sin({frequency}*x)", UNIFORM, length))
    CASES.append(("small-hf", f"exp(x/300) + {amplitude}*sin({frequency}*x)", UNIFORM, length))
    CASES.append(("small-hf", f"exp(x/1000) + {amplitude}*sin({frequency}*x)", UNIFORM, length))
for text in (
    "log(x) + 1e-12*sin(x)",
    "sqrt(x) + 1e-9*cos(x)",
    "log(x)**2 + 1e-10*cos(3*x)",
    "exp(-x/1e5) + 1e-12*sin(x)",
):
    CASES.append(("large-x", text, LARGE, 1.0))
for polynomial in ("x**2", "2*x**3", "x**4", "5*x**5"):
    for part in ("sin(x)", "cos(x)", "sin(3*x)", "exp(sin(x))", "atan(x)"):
        CASES.append(("poly-part", f"{polynomial} + {part}", POLY_XS, 1.0))
for k in (256, 1024, 4096):
    CASES.append(("dyadic", f"x + 1e-3*sin(2*pi*{k}*x)", UNIFORM, 1 / k))
    CASES.append(("dyadic", f"x**2 + 1e-3*sin(2*pi*{k}*x)**2", UNIFORM, 1 / k))
for background in ("1", "exp(x)", "sin(x)", "x + 1000"):
    for width in ("1000", "300"):
        CASES.append(("narrow", f"{background} + exp(-({width}*x)**2)", NARROW_XS, 1 / float(width)))
for text, frequency in (("sin(50*x)", 50.0), ("cos(3*x)", 3.0), ("exp(sin(7*x))", 7.0), ("sin(x/3)", 1 / 3)):
    CASES.append(("argument", text, ARGUMENT_XS, 1 / frequency))
for a in ("0.5", "1.0", "-7.3"):
    side = [float(a) + d for d in SINGULAR_DISTANCES]
    CASES.append(("singular", f"1/(x - {a})", side + [float(a) - d for d in SINGULAR_DISTANCES], None))
    CASES.append(("singular", f"log(x - {a})", side, None))
    CASES.append(("singular", f"sqrt(x - {a})", side, None))
    CASES.append(("singular", f"(x - {a})**1.5", side, None))


def run() -> int:
    warnings.simplefilter("ignore")
    start = time.process_time()
    found: dict[str, list[tuple[float, str]]] = defaultdict(list)
    totals: dict[str, int] = defaultdict(int)
    for family, text, xs, length in CASES:
        compiled = H.numdiff_compiled(text)
        function = compiled.function
        points = np.array(xs)
        for order in (1, 2, 3, 4):
            # As the diff command calls the engine for a univariate expression.
            estimate = engine.derivative(
                lambda t, function=function: function(t[None]),
                points,
                order=order,
                check_step=True,
                check_kink=True,
                analytic=compiled.analytic,
            )
            for j, x in enumerate(xs):
                if estimate.status[j] != 0:
                    continue
                totals[family] += 1
                ref = H.reference(text, order, x, length)
                value = float(estimate.value[j])
                verdict = H.classify(value, False, ref, order)
                if verdict.cls in (H.LOW, H.SILENT):
                    truth = "none" if ref.value is None else f"{float(ref.value):.17g}"
                    ratio = (
                        float(abs(value - ref.value) / H.allowed_error(ref.value, ref.floor, order))
                        if ref.value
                        else math.inf
                    )
                    line = (
                        f"{verdict.cls:12s} order {order} at {x!r}: {value!r} (reference {truth}, error estimate "
                        f"{float(estimate.error[j]):.3g}; {ratio:.3g} times the allowed error)\n"
                        f"    numdiff diff '{text}' --order {order} --at {x!r} --format json"
                    )
                    found[family].append((ratio, line))
    silent = 0
    for family in dict.fromkeys(case[0] for case in CASES):
        rows = sorted(found[family], reverse=True)
        wrong = sum(1 for _, line in rows if line.startswith(H.SILENT))
        silent += wrong
        print(f"## {family}: {totals[family]} unflagged results, {wrong} silently wrong, {len(rows) - wrong} low")
        for _, line in rows[:8]:
            print(line)
    print(f"\n{silent} silently wrong in all; {time.process_time() - start:.0f} s CPU")
    return 1 if silent else 0


if __name__ == "__main__":
    sys.exit(run())
