"""The direct solver's fill-reducing ordering (solvers/newton.py, BOUNDED_2D_MUMPS_ORDERING): a
bounded (variational-inequality) problem in 2D factorises with MUMPS's AMF ordering, because its
reduced system is analysed afresh in every Newton iteration; an unbounded problem keeps MUMPS's
automatic choice, and a case's own ordering wins (2D here; 3D keeps the automatic choice by the
same rule). Read back from the factor matrix the solve used, so the option must reach MUMPS
through the problem's prefix."""

from __future__ import annotations

import pytest

from conftest import box_domain
from ecx_device.device.names import Region
from ecx_device.fem import PETSc
from ecx_device.materials import Material
from ecx_device.materials.properties import Constant
from ecx_device.physics.base import Context
from ecx_device.physics.heat import HeatConduction
from ecx_device.physics.ohmic import OhmicConduction
from ecx_device.solvers.newton import BOUNDED_2D_MUMPS_ORDERING, CoupledProblem

pytestmark = pytest.mark.skipif(not PETSc.Sys().hasExternalPackage("mumps"),
                                reason="this PETSc has no MUMPS")

AUTOMATIC = 7  # MUMPS's ICNTL(7) default


def _ordering(bounds, options=None) -> int:
    """MUMPS's ICNTL(7) of the factorisation a solve of a Joule-heated axisymmetric box used."""
    wire = Material("joule", "", {"electrical_conductivity": Constant(unit="S/m", value=1e4),
                                  "thermal_conductivity": Constant(unit="W/(m K)", value=1.0)})
    ctx = Context.create(box_domain(12, "axisymmetric", 300.0), {Region.WIRE: wire})
    problem = CoupledProblem(ctx, [OhmicConduction(), HeatConduction()], degree=1,
                             bounds=bounds, petsc_options=options)
    ctx.constants["bias"].value = 0.5  # Joule heat: Newton has to iterate
    result = problem.solve()
    assert result.converged and result.iterations > 0
    ordering = problem.problem.solver.getKSP().getPC().getFactorMatrix().getMumpsIcntl(7)
    problem.close()
    return ordering


@pytest.mark.parametrize("bounded, expected", [(True, BOUNDED_2D_MUMPS_ORDERING),
                                               (False, AUTOMATIC)])
def test_bounded_2d_problems_get_the_cheap_ordering(bounded, expected):
    assert _ordering({"T": (0.0, 5000.0)} if bounded else None) == expected


def test_a_case_ordering_wins():
    assert _ordering({"T": (0.0, 5000.0)}, {"mat_mumps_icntl_7": 0}) == 0
