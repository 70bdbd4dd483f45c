"""The Slotboom step of the carrier problems (solvers/assembled_terms.py): an update of phi_n
(phi_p) that shrinks exp(-phi_n/V_T) (exp(phi_p/V_T)) is taken as the Newton update of that
variable, in which the continuity equations are linear at fixed psi. It must reach the same
solution as the log-damped iteration in fewer iterations. Device: the 1D silicon p-n diode of
test_pn_diode.py (fitted carrier fluxes, 201 nodes), swept 0.05-0.4 V."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ecx_device.solvers import assembled_terms
from ecx_device.solvers.assembled_terms import TermAssembly
from test_jacobian_lag import DEFAULT_CONTRACTION, _sweep


class _Update:
    """Stand-in for a PETSc vector: the ``array`` the pre-check edits."""

    def __init__(self, values):
        self.array = np.array(values, dtype=float)


@pytest.mark.parametrize("side", [-1, 1])
def test_slotboom_step_is_the_linear_update_of_the_slotboom_variable(side):
    scale = 0.025
    d = np.array([-0.1, -0.02, -0.005, 0.0, 0.004, 0.015, 0.2])  # x_new = x - d
    terms = TermAssembly.__new__(TermAssembly)
    terms._damped = [(np.arange(len(d)), scale, side)]
    y = _Update(d)
    terms.log_damp(y)
    step = -y.array  # x_new - x
    shrink = side * d > 0
    floor = assembled_terms.SLOTBOOM_FLOOR
    exact = shrink & (np.abs(d) < (1 - floor) * scale)
    # u = exp(side x / s) changes by the linearised factor 1 - side d / s
    assert np.exp(side * step[exact] / scale) == pytest.approx(1 - side * d[exact] / scale,
                                                               rel=1e-12)
    # growing steps: the symmetric log damping, sign(-d) s ln(1 + |d|/s)
    grow = ~shrink
    assert step[grow] == pytest.approx(-np.sign(d[grow]) * scale
                                       * np.log1p(np.abs(d[grow]) / scale), rel=1e-12)
    # past the floor: u shrinks by the floor's factor, or the log damping's step if longer
    far = shrink & ~exact
    assert far.any()
    longest = np.maximum(scale * math.log(1 / floor), scale * np.log1p(np.abs(d[far]) / scale))
    assert step[far] == pytest.approx(-np.sign(d[far]) * longest, rel=1e-12)


def test_slotboom_steps_reach_the_same_currents_in_fewer_iterations(monkeypatch):
    slotboom, slotboom_its, _ = _sweep(monkeypatch, DEFAULT_CONTRACTION)
    monkeypatch.setattr(assembled_terms, "SLOTBOOM_FLOOR", 1.0)  # -> the log damping alone
    damped, damped_its, _ = _sweep(monkeypatch, DEFAULT_CONTRACTION)
    print(f"Newton iterations: {slotboom_its} with Slotboom steps, {damped_its} log-damped")
    assert slotboom == pytest.approx(damped, rel=1e-9)
    assert slotboom_its <= 0.85 * damped_its
