"""The bias continuation of solvers/continuation.py - its predictor, and what it does with a failed
solve - on a stand-in problem whose exact solution is a known function of the bias (no DOLFINx
solve): the solve reports how far its start was from the solution, so the tests see what the
predictor handed it."""

from __future__ import annotations

import numpy as np
import pytest

from ecx_device.errors import SolverError
from ecx_device.solvers.continuation import continue_bias
from ecx_device.solvers.problem import NewtonResult


class _Bias:
    def __init__(self):
        self.value = 0.0


class _Ctx:
    def __init__(self):
        self.constants = {"bias": _Bias()}


class Quadratic:
    """u(V) = a + b V + c V^2 exactly; solve() records the distance of its start from u(V)."""

    names = ["u"]

    def __init__(self, fail_band: tuple[float, float] = (np.inf, np.inf)):
        self.ctx = _Ctx()
        self.u_array = self.exact(0.0)
        self.u = {"u": None}
        self.starts: list[float] = []
        self.fail_band = fail_band

    @staticmethod
    def exact(v: float) -> np.ndarray:
        return np.array([1.0, -2.0, 0.5]) + np.array([0.3, 1.0, -2.0]) * v \
            + np.array([0.7, 0.0, 4.0]) * v * v

    def state(self):
        return {"u": self.u_array.copy()}

    def restore(self, state):
        self.u_array = state["u"].copy()

    def solve(self) -> NewtonResult:
        v = float(self.ctx.constants["bias"].value)
        distance = float(np.abs(self.u_array - self.exact(v)).max())
        self.starts.append(distance)
        if self.fail_band[0] < distance < self.fail_band[1]:
            return NewtonResult(False, 3, -3)
        self.u_array = self.exact(v)
        return NewtonResult(True, 1 if distance < 1e-12 else 4, 2)

    def residual_norms(self):
        return {"u": 0.0}


def _sweep(problem, biases):
    return [continue_bias(problem, v, max_step=0.1, min_step=1e-3) for v in biases]


def test_quadratic_extrapolation_is_exact_for_a_quadratic_path():
    p = Quadratic()
    _sweep(p, [0.1, 0.2, 0.3, 0.4])
    # no history at 0.1, a secant at 0.2 (error c dV^2), exact from three states on
    assert p.starts[0] > 1e-3 and p.starts[1] > 1e-3
    assert max(p.starts[2:]) < 1e-12


def test_a_solve_at_the_start_bias_does_not_disable_the_prediction():
    # the run loop first solves at the start bias itself, then sweeps on from it
    p = Quadratic()
    _sweep(p, [0.0, 0.1, 0.2, 0.3])
    secant = p.exact(0.1) + (p.exact(0.1) - p.exact(0.0))  # through V = 0 and 0.1, at 0.2
    assert p.starts[2] == pytest.approx(np.abs(secant - p.exact(0.2)).max(), rel=1e-12)
    assert p.starts[3] < 1e-12


def test_history_is_dropped_when_the_state_changed_elsewhere():
    p = Quadratic()
    _sweep(p, [0.1, 0.2, 0.3])
    p.u_array = p.u_array + 1e-3  # e.g. a time step or a restore by other code
    from_changed = np.abs(p.u_array - p.exact(0.4)).max()
    p.starts.clear()
    _sweep(p, [0.4])
    # started from the changed state, not from an extrapolation of the old history
    assert p.starts[0] == pytest.approx(from_changed, rel=0, abs=1e-15)


def test_reversal_interpolates_and_failed_prediction_is_retried():
    p = Quadratic()
    _sweep(p, [0.1, 0.2])
    # a reversal of the sweep interpolates: the state at 0.1 is among the last three
    reports = _sweep(p, [0.1])
    assert p.starts[-1] < 1e-12 and reports[0].rejected == 0
    # at 0.2 the secant prediction from (0, 0.1) is 0.08 off (c dV^2 terms), the last converged
    # state 0.1: a solve failing from 0.08 is retried from the converged state, which succeeds -
    # no rejected step, two solves
    q = Quadratic(fail_band=(0.075, 0.085))
    reports = _sweep(q, [0.1, 0.2])
    assert q.starts[1] == pytest.approx(0.08) and q.starts[2] == pytest.approx(0.1)
    assert reports[1].rejected == 0 and reports[1].solves == 2


def test_a_failed_solve_at_an_unchanged_bias_raises():
    """A re-solve at the same bias (the exchange's new composition) that fails has no bias step
    to shorten. The loop used to end there as if it had converged, keeping the previous state:
    on the Li-anode wire at 0.1 V, 605 of 1889 time rows then had anode and cathode currents
    differing by up to 7e-4."""
    p = Quadratic(fail_band=(-1.0, np.inf))  # every solve fails
    with pytest.raises(SolverError):
        continue_bias(p, 0.0, max_step=0.1, min_step=1e-3)
    assert len(p.starts) == 1  # no halving of a bias step that does not exist


def test_a_too_long_bias_step_is_halved_until_it_converges():
    p = Quadratic(fail_band=(0.5, np.inf))  # converges only from within 0.5 of the solution
    report = continue_bias(p, 1.0, max_step=1.0, min_step=1e-3)
    assert p.u_array == pytest.approx(p.exact(1.0))
    assert report.rejected >= 1


class _Admitting(Quadratic):
    """Records what continue_bias hands its admit_prediction hook."""

    def __init__(self):
        super().__init__()
        self.admitted: list[tuple[float, float]] = []

    def admit_prediction(self, last, bias_step):
        self.admitted.append((float(self.ctx.constants["bias"].value), bias_step))
        assert np.array_equal(last["u"], self.exact(self.ctx.constants["bias"].value
                                                    - bias_step))


def test_a_predicted_start_goes_through_the_problems_admit_hook():
    """Every predicted start (not the unpredicted first steps) is handed to the problem's
    admit_prediction with the last converged state and the bias step."""
    p = _Admitting()
    continue_bias(p, 0.4, max_step=0.1, min_step=1e-3)
    assert [v for v, _ in p.admitted] == pytest.approx([0.2, 0.3, 0.4])
    assert [s for _, s in p.admitted] == pytest.approx([0.1, 0.1, 0.1])
