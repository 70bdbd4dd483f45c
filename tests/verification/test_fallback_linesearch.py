"""The split ion step's Newton globalisation: full steps first, PETSc's backtracking line search
on a second try from the same start when full steps fail (models.ION_FALLBACK_LINESEARCH).

atan(u - 1) = 0 from u = 3: full Newton steps overshoot and diverge (|u - 1| > 1.39), while a
backtracking search converges to u = 1."""

from __future__ import annotations

import numpy as np
import ufl

from conftest import box_domain
from ecx_device.device.names import Region
from ecx_device.materials import Material
from ecx_device.materials.properties import Constant
from ecx_device.physics.base import Context
from ecx_device.solvers.newton import CoupledProblem


class _Arctan:
    """One unknown u with the residual atan(u - 1) (a pure reaction term)."""

    unknowns = ("u",)

    def residual(self, ctx, u, v):
        return {"u": ufl.atan(u["u"] - 1.0) * v["u"] * ufl.dx}

    def initial_guess(self, ctx):
        return {"u": 3.0}


def _problem(fallback: str | None) -> CoupledProblem:
    wire = Material("plain", "", {"thermal_conductivity": Constant(unit="W/(m K)", value=1.0)})
    ctx = Context.create(box_domain(8, "1d", 300.0), {Region.WIRE: wire})
    return CoupledProblem(ctx, [_Arctan()], degree=1, max_iterations=30,
                          fallback_linesearch=fallback)


def test_full_steps_alone_fail_from_a_far_start():
    result = _problem(None).solve()
    assert not result.converged


def test_the_backtracking_retry_converges_from_the_same_start():
    problem = _problem("bt")
    result = problem.solve()
    assert result.converged, result
    assert np.allclose(problem.u["u"].x.array, 1.0, atol=1e-9)
    # the configured search is back for the next solve
    assert problem.problem.solver.getLineSearch().getType() == "basic"
