"""continue_bias must not return a state it did not converge.

A re-solve at an unchanged bias (the exchange's new composition pushed into the electrical
problem) that fails has no bias step to shorten. The loop used to end there as if the target
had been reached, leaving the previous state in place: on the Li-anode wire at 0.1 V, 605 of
1889 time rows then had anode and cathode currents differing by up to 7e-4."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from ecx_device.errors import SolverError
from ecx_device.solvers.continuation import continue_bias
from ecx_device.solvers.problem import NewtonResult


class _Stub:
    """A Problem whose solve converges only where ``solvable(bias)`` holds."""

    def __init__(self, bias: float, solvable):
        self.ctx = SimpleNamespace(constants={"bias": SimpleNamespace(value=bias)})
        self.u = {"phi": None}
        self.x = np.array([bias])
        self.solvable = solvable
        self.solves = 0

    def state(self):
        return {"phi": self.x.copy()}

    def restore(self, state):
        self.x = state["phi"].copy()

    def solve(self):
        self.solves += 1
        bias = float(self.ctx.constants["bias"].value)
        if self.solvable(bias):
            self.x = np.array([bias])
            return NewtonResult(True, 1, 2)
        return NewtonResult(False, 40, -5)

    def residual_norms(self):
        return {"phi": 0.0}


def test_a_failed_solve_at_an_unchanged_bias_raises():
    problem = _Stub(0.1, solvable=lambda v: False)
    with pytest.raises(SolverError):
        continue_bias(problem, 0.1, max_step=0.25, min_step=1e-3)
    assert problem.solves == 1  # no halving of a bias step that does not exist


def test_a_converged_solve_at_an_unchanged_bias_returns():
    problem = _Stub(0.1, solvable=lambda v: True)
    continue_bias(problem, 0.1, max_step=0.25, min_step=1e-3)
    assert problem.solves == 1


def test_a_hard_bias_step_is_still_halved():
    # converges only within 0.1 V of the start: the 1 V step is cut until it lands there
    problem = _Stub(0.0, solvable=lambda v: True)
    problem.solvable = lambda v: abs(v - float(problem.x[0])) <= 0.1 + 1e-12
    report = continue_bias(problem, 1.0, max_step=1.0, min_step=1e-3)
    assert problem.x[0] == pytest.approx(1.0)
    assert report.rejected >= 1
