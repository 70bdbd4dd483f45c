"""Local error estimate of a backward Euler step, for the step-length controller
(:func:`ecx_device.runs.stepsize.error_factor`), and the linear prediction it rests on (also
the ion step's Newton start, :meth:`ExchangeSplitting._predict_ions`)."""

from __future__ import annotations

import numpy as np


def linear_prediction(start: np.ndarray, older: np.ndarray, dt: float,
                      dt_older: float) -> np.ndarray:
    """The linear extrapolation u_p, ``dt`` (s) past ``start``, of ``older`` and ``start``, an
    accepted step of ``dt_older`` (s > 0) apart (units of the states)."""
    return start + (dt / dt_older) * (start - older)


def local_error(now: np.ndarray, start: np.ndarray, older: np.ndarray, dt: float,
                dt_older: float) -> np.ndarray:
    """Backward Euler's local error estimate (units of the states) of the step ``start`` ->
    ``now`` of length ``dt`` (s), from the state ``older`` one accepted step of length
    ``dt_older`` (s) before ``start``.

    The local error e is ~dt^2/2 u''. The linear extrapolation u_p of ``older`` and ``start``
    misses the exact solution by ~dt (dt + dt_older)/2 u''; the step's result, which carries e,
    misses u_p by ~dt (2 dt + dt_older)/2 u''. So e ~ dt / (2 dt + dt_older) |now - u_p| (a third
    of it at equal steps: Milne's device for backward Euler). Without an older state
    (``dt_older`` = 0) the step's change |now - start|, a bound, stands in."""
    if dt_older <= 0.0:
        return np.abs(now - start)
    predicted = linear_prediction(start, older, dt, dt_older)
    return dt / (2.0 * dt + dt_older) * np.abs(now - predicted)
