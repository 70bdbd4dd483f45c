"""The exchange run's step-length control: backward Euler's local error estimate against the
exact local error of u' = -k u, and the controller that uses it holding the error near its
tolerance while the step grows by orders of magnitude."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ecx_device.runs.stepsize import SAFETY, Stepsize, error_factor
from ecx_device.solvers.local_error import local_error

RATE = 3.0  # k of u' = -k u (1/s)


def _be_step(u: float, dt: float) -> float:
    """One backward Euler step of u' = -k u (exact solve of the linear equation)."""
    return u / (1.0 + RATE * dt)


@pytest.mark.parametrize("ratio", [1.0, 0.5, 2.0])
def test_local_error_estimate_approaches_the_exact_local_error(ratio):
    """From the exact states at t0 - dt_o and t0, the estimate over the true local error of one
    step tends to 1 as dt -> 0 (first-order agreement: the gap shrinks with dt)."""
    gaps = []
    for dt in (1e-2, 1e-3):
        dt_o = dt * ratio
        start, older = 1.0, math.exp(RATE * dt_o)
        now = _be_step(start, dt)
        exact = abs(now - math.exp(-RATE * dt))
        estimate = float(local_error(np.array([now]), np.array([start]), np.array([older]),
                                     dt, dt_o)[0])
        gaps.append(abs(estimate / exact - 1.0))
    assert gaps[0] < 0.1 and gaps[1] < gaps[0] / 5, gaps


def test_without_an_older_state_the_change_bounds_the_error():
    now, start = np.array([0.3, 0.5]), np.array([0.1, 0.5])
    assert np.allclose(local_error(now, start, start, 1.0, 0.0), [0.2, 0.0])


def test_controller_holds_the_local_error_near_its_tolerance():
    """March u' = -k u from 1e-6 s with the controller (as the exchange run does): every
    accepted step's true local error stays within 1.5 x the tolerance, the step grows by four
    decades, and the end value is within a few tolerances of the exact one."""
    tol = 1e-4
    size = Stepsize(1e-6, 1e-12, 10.0)
    t, u, u_older, dt_older, worst, steps = 0.0, 1.0, 1.0, 0.0, 0.0, 0
    while t < 2.0:
        dt = min(size.step_from(t), 2.0 - t)
        now = _be_step(u, dt)
        true = abs(now - u * math.exp(-RATE * dt))
        estimate = float(local_error(np.array([now]), np.array([u]), np.array([u_older]), dt,
                                     dt_older)[0])
        worst = max(worst, true / tol)
        size.accepted(dt, error_factor(estimate, tol, size.growth))
        t, u, u_older, dt_older, steps = t + dt, now, u, dt, steps + 1
    assert worst < 1.5, worst
    assert size.value > 1e-6 * 1e4, size.value
    # the global error of the absolute-tolerance control: a few local tolerances, not a sum
    # over the steps (each error decays with u)
    assert abs(u - math.exp(-RATE * 2.0)) < 10 * tol, u - math.exp(-RATE * 2.0)
    print(f"{steps} steps; worst local error {worst:.2f} x tol; final dt {size.value:.3g} s")


@pytest.mark.parametrize("error, largest, expected", [
    (1e-3, 1.5, SAFETY), (4e-3, 1.5, SAFETY / 2), (1e-9, 1.5, 1.5), (1.0, 1.5, 0.1),
    (0.0, 2.0, 2.0)])
def test_error_factor_scales_with_the_square_root_of_tolerance_over_error(error, largest,
                                                                          expected):
    assert error_factor(error, 1e-3, largest) == pytest.approx(expected)


def test_a_rejection_cuts_by_its_suggested_factor_within_the_bounds():
    size = Stepsize(1.0, 1e-6, 1.0)
    assert size.retry(1.0, 0.2) == pytest.approx(0.2)
    assert size.retry(1.0, 0.9) == pytest.approx(0.5)   # never less than a halving
    assert size.retry(1.0, 1e-4) == pytest.approx(0.1)  # nor more than a tenth
    assert size.retry(1.0) == pytest.approx(0.5)


def test_a_step_cut_short_by_a_milestone_does_not_shrink_the_next_unless_its_error_asks():
    """Step value 1 s; a 0.1 s step that landed on a milestone: an easy one (factor 1.2) leaves
    the next at 1 s (not 0.12 s), a hard one (factor 0.5) makes it 0.05 s; a long easy step
    grows by at most ``growth`` and never past ``maximum``."""
    size = Stepsize(1.0, 1e-6, 2.0, growth=1.5)
    size.accepted(0.1, 1.2)
    assert size.value == pytest.approx(1.0)
    size.accepted(0.1, 0.5)
    assert size.value == pytest.approx(0.05)
    size.value = 1.0
    size.accepted(1.0, 3.0)
    assert size.value == pytest.approx(1.5)
    size.accepted(1.5, 3.0)
    assert size.value == pytest.approx(2.0)


class _DecaySplitting:
    """A stand-in for ExchangeSplitting on u' = -k u (one node), with the same protocol as the
    run loop's TimeStepper uses: solve a step, estimate its error, accept or restore."""

    easy_iterations = 8

    def __init__(self, tolerance: float):
        self.limits = type("Limits", (), {"time_error_tolerance": tolerance})()
        self.u, self.start, self.older, self.dt_older = 1.0, 1.0, 1.0, 0.0
        self.dt, self.target_bias, self.true_errors = 0.0, 0.0, []

    def state(self):
        return self.u

    def restore(self, state):
        self.u = state

    def solve(self):
        from ecx_device.solvers.problem import NewtonResult
        self.u = _be_step(self.start, self.dt)
        self.true_errors.append(abs(self.u - self.start * math.exp(-RATE * self.dt)))
        return NewtonResult(True, 2, 2)

    def rejection_factor(self, result):
        return None

    def step_error(self) -> float:
        return float(local_error(np.array([self.u]), np.array([self.start]),
                                 np.array([self.older]), self.dt, self.dt_older)[0])

    def accept(self):
        self.older, self.start, self.dt_older = self.start, self.u, self.dt


def test_the_run_loop_sizes_each_step_from_the_error_of_the_step_it_accepts():
    """TimeStepper with the controller on u' = -k u: each step's true local error stays below
    1.5 tol, in fewer than 400 steps. (Estimating the error after accept(), from a state the
    step had already moved, took 5216 steps here.)"""
    from ecx_device.runs.loop import TimeStepper
    tol = 1e-4
    sp = _DecaySplitting(tol)
    stepper = TimeStepper(sp, lambda t: 0.0, 2.0, Stepsize(1e-6, 1e-12, 10.0))
    while not stepper.finished:
        stepper.advance()
    assert max(sp.true_errors) < 1.5 * tol, max(sp.true_errors) / tol
    assert stepper.steps < 400, stepper.steps


class _LinearChangeSplitting(_DecaySplitting):
    """X changes by SLOPE * dt per step: a step whose change exceeds ``max_fraction_change`` is
    rejected as too fast, and the retry factor comes from ExchangeSplitting.rejection_factor."""

    SLOPE = 0.8  # change of X per second (1/s)

    def __init__(self, tolerance: float, limit: float):
        super().__init__(tolerance)
        self.limits.max_fraction_change = limit
        self.tried: list[float] = []

    def max_change(self) -> float:
        return self.SLOPE * self.dt

    def solve(self):
        from ecx_device.solvers.problem import NewtonResult
        from ecx_device.solvers.splitting import TOO_FAST
        self.tried.append(self.dt)
        if self.max_change() > self.limits.max_fraction_change:
            return NewtonResult(False, 2, TOO_FAST, "X changed too much")
        return super().solve()

    def rejection_factor(self, result):
        from ecx_device.solvers.splitting import ExchangeSplitting
        return ExchangeSplitting.rejection_factor(self, result)


def test_a_step_rejected_as_too_fast_is_retried_at_the_step_its_change_allows():
    """A first step 4x longer than the X-change limit allows: one rejection, and the retry is
    the step whose change meets the limit (limit / change * dt), not a halving (which would
    take two rejections to get below it)."""
    from ecx_device.runs.loop import TimeStepper
    limit, first = 0.02, 0.1
    sp = _LinearChangeSplitting(1e-2, limit)
    stepper = TimeStepper(sp, lambda t: 0.0, 1.0, Stepsize(first, 1e-12, 10.0))
    stepper.advance()
    assert stepper.rejected == 1
    assert sp.tried[0] == pytest.approx(first)
    assert sp.tried[1] == pytest.approx(limit / _LinearChangeSplitting.SLOPE)
    assert stepper.time == pytest.approx(limit / _LinearChangeSplitting.SLOPE)
