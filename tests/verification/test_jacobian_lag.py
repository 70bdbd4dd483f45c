"""Newton keeps its Jacobian once it is in its quadratic phase (solvers/newton.py,
``LAG_CONTRACTION``): the chord iterations that finish a solve must reach the same solution as
full Newton, with fewer Jacobian assemblies, and the lag must end when a chord iteration stalls.

Device: the 1D silicon p-n diode of test_pn_diode.py (fitted carrier fluxes, 201 nodes), swept
0-0.4 V in 0.05 V steps."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import box_domain
from ecx_device.device.names import Facet
from ecx_device.fem import MPI
from ecx_device.physics.base import Context
from ecx_device.physics.carriers_fitted import FittedDriftDiffusion
from ecx_device.physics.contacts import OhmicContact
from ecx_device.physics.poisson import Poisson
from ecx_device.solvers import newton
from ecx_device.solvers.assembled_terms import TermAssembly
from ecx_device.solvers.continuation import continue_bias
from test_pn_diode import LENGTH, SOLVER, silicon_diode

BIASES = np.round(np.arange(0.05, 0.4001, 0.05), 10)
DEFAULT_CONTRACTION = newton.LAG_CONTRACTION


def _sweep(monkeypatch, contraction: float) -> tuple[list[float], int, int]:
    """Cathode currents (A) per bias, Newton iterations and Jacobian assemblies of the sweep."""
    monkeypatch.setattr(newton, "LAG_CONTRACTION", contraction)
    calls = {"n": 0}
    assemble = TermAssembly._jacobian

    def counted(self, *args):
        calls["n"] += 1
        return assemble(self, *args)

    monkeypatch.setattr(TermAssembly, "_jacobian", counted)
    par = silicon_diode(1e-7)
    ctx = Context.create(box_domain(200, "1d", LENGTH / 1e-9), {})
    modules = [Poisson(par, lumped=True), FittedDriftDiffusion(par),
               OhmicContact(par, Facet.CU_SINK), OhmicContact(par, Facet.W_SINK)]
    prob = newton.CoupledProblem(ctx, modules, degree=1, petsc_options=SOLVER)
    assert prob.solve().converged
    calls["n"] = 0
    currents, iterations = [], 0
    for V in BIASES:
        iterations += continue_bias(prob, float(V), max_step=0.05, min_step=1e-3).newton_iterations
        currents.append(prob.quantities()["cathode_current [A]"])
    prob.close()
    return currents, iterations, calls["n"]


def test_chord_finish_reaches_the_newton_solution_with_fewer_jacobians(monkeypatch):
    newton_currents, newton_its, newton_jacobians = _sweep(monkeypatch, 0.0)
    lag_currents, lag_its, lag_jacobians = _sweep(monkeypatch, DEFAULT_CONTRACTION)
    print(f"full Newton: {newton_its} iterations, {newton_jacobians} Jacobians; with the lag: "
          f"{lag_its} iterations, {lag_jacobians} Jacobians")
    assert lag_jacobians < 0.8 * newton_jacobians
    assert lag_its <= newton_its + len(BIASES)  # at most one more iteration per bias
    assert lag_currents == pytest.approx(newton_currents, rel=1e-10)


def test_the_lag_starts_on_a_contraction_and_ends_on_a_stall():
    test = newton.StallAtRoundoff(MPI.COMM_SELF)
    lag = []
    for it, step in enumerate([0.0, 1e-1, 5e-2, 4e-3, 3e-3, 1e-4, 4e-5, 1e-6]):
        test._raw_update = np.array([step, -0.5 * step])
        test._lag_next(it)
        lag.append(test.lag)
    # 5e-2/1e-1 = 0.5: Newton still linear; 4e-3/5e-2 = 0.08 <= 0.1: lag; 3e-3 is not half of
    # 4e-3: the chord stalls, assemble again; 1e-4/3e-3 = 0.033: lag; 4e-5 < half: keep it
    assert lag == [False, False, False, True, False, True, True, True]
    test._lag_next(0)  # a new solve starts with a fresh Jacobian
    assert test.lag is False
