"""The numerical core of numdiff: finite differences, Richardson extrapolation and the adaptive passes.

It imports numpy and the standard library only (and the plain data of :mod:`numdiff_cli.contract`), so it can
be read and tested on its own. The public entry points are in :mod:`numdiff_cli.engine`.

Modules, from the bottom up:

- :mod:`.estimate`: the :class:`~.estimate.Estimate` returned everywhere, the status codes and the precision
  thresholds that decide them;
- :mod:`.stencils`: stencil weights, the default step, fixed-step finite differences and the complex step;
- :mod:`.steps`: the step policy of the adaptive method (ratios, counts, step sequences);
- :mod:`.blocks`: how many values of f the fast and scaled passes evaluate per block of points;
- :mod:`.richardson`: the Richardson tableau of central differences;
- :mod:`.noise`: the rounding noise measured on the evaluations of f;
- :mod:`.fine`: the fine pass of orders 2 to 4 (a dense tableau around the chosen step, the rounding of f measured);
- :mod:`.convergence`: the fast pass's tighter error estimate of orders 2 to 4 (the truncation of a converging
  tableau, the rounding of the differences' sums);
- :mod:`.units`: the unit of the scaled pass's steps, from what the fast pass measured;
- :mod:`.fast`: ``auto``'s fast pass (five absolute steps, one call of f);
- :mod:`.scaled`: the fast pass in blocks of points, and again on steps scaled to the scale of f at each point;
- :mod:`.adaptive`: the adaptive passes, the kink test and the verdict on each point;
- :mod:`.gradient`: ``auto`` for the components of a gradient (the fast pass, the complex step, short passes of
  relative steps, the wide search), at fewer evaluations per component;
- :mod:`.lines`: :func:`~.lines.line_derivative`, the derivative along lines by any method (the complex step
  falling back to ``auto`` where it underflows), on which every public function is built;
- :mod:`.hessian`: the Hessian from second derivatives along directions;
- :mod:`.sweep`: one finite difference at chosen steps and precisions (float64 or float32), written out term by
  term.
"""
