"""MUMPS's working space (solvers/factor_room.py): a factorisation whose values changed since
the analysis runs short of it, and the retry with more space succeeds; a Newton problem's
factors get the default space."""

from __future__ import annotations

import pytest

from ecx_device.fem import PETSc
from ecx_device.solvers.factor_room import MAX_WORKSPACE_PERCENT, WORKSPACE_PERCENT, FactorRoom

pytestmark = pytest.mark.skipif(not PETSc.Sys().hasExternalPackage("mumps"),
                                reason="this PETSc has no MUMPS")

SIDE = 60  # grid points per side of the 5-point operator


def _fill(A, diagonal: float, skew: float) -> None:
    """A 5-point operator on a SIDE x SIDE grid: ``diagonal`` on the diagonal, -1 + skew and
    -1 - skew to the two neighbours of each axis (skew 0: a Laplacian; diagonal ~0 and skew
    ~1: convection-dominated, so the factorisation has to pivot off the diagonal)."""
    A.zeroEntries()
    for i in range(SIDE):
        for j in range(SIDE):
            k = i * SIDE + j
            A.setValue(k, k, diagonal)
            for di, dj, sign in ((1, 0, 1), (0, 1, 1), (-1, 0, -1), (0, -1, -1)):
                if 0 <= i + di < SIDE and 0 <= j + dj < SIDE:
                    A.setValue(k, (i + di) * SIDE + j + dj, -1.0 + skew * sign)
    A.assemble()


def _reset(ksp, A) -> None:
    """What CoupledProblem does after a failed solve: drop the factors (and the analysis)."""
    ksp.reset()
    ksp.setOperators(A)
    ksp.setFromOptions()


def test_a_refactorisation_short_of_space_is_retried_with_more():
    """Analysed on a Laplacian, refactorised on a convection-dominated operator with the same
    pattern: with MUMPS's 20 % margin the factorisation fails with INFOG(1) = -9 (what happened
    on the Li-anode wire); doubling the space and refactorising succeeds within the cap."""
    n = SIDE * SIDE
    A = PETSc.Mat().createAIJ([n, n], nnz=5)
    _fill(A, 4.0, 0.0)
    ksp = PETSc.KSP().create()
    ksp.setOptionsPrefix("factor_room_test_")
    ksp.setOperators(A)
    db = PETSc.Options()
    for key, value in (("ksp_type", "preonly"), ("pc_type", "lu"),
                       ("pc_factor_mat_solver_type", "mumps")):
        db[f"factor_room_test_{key}"] = value
    room = FactorRoom(ksp, {"mat_mumps_icntl_14": 20})
    ksp.setFromOptions()
    b, x = A.createVecLeft(), A.createVecRight()
    b.set(1.0)
    ksp.solve(b, x)
    assert ksp.getConvergedReason() > 0

    _fill(A, 1e-8, 0.9)
    ksp.setOperators(A)
    ksp.solve(b, x)
    assert ksp.getConvergedReason() < 0
    assert ksp.getPC().getFactorMatrix().getMumpsInfog(1) == -9
    retries = 0
    while ksp.getConvergedReason() < 0:
        room.note(ksp)
        _reset(ksp, A)
        assert room.grow(), f"no more space after {retries} retries ({room.percent} %)"
        retries += 1
        ksp.solve(b, x)
    F = ksp.getPC().getFactorMatrix()
    assert F.getMumpsInfog(1) == 0  # the factorisation completed (this operator is too
    # ill-conditioned, ~(1.9/0.1)^60, for its solution to be worth checking)
    assert F.getMumpsIcntl(14) == room.percent <= MAX_WORKSPACE_PERCENT
    room.note(ksp)  # a factorisation that succeeded asks for no more space
    assert not room.grow()
    room.close()
    for key in ("ksp_type", "pc_type", "pc_factor_mat_solver_type"):
        db.delValue(f"factor_room_test_{key}")


def test_a_newton_problem_factorises_with_the_default_space():
    """A 2D problem's MUMPS factors carry ICNTL(14) = WORKSPACE_PERCENT (the options entry is
    under the problem's own prefix, which the factor reads)."""
    from conftest import box_domain

    from ecx_device.device.names import Region
    from ecx_device.materials.database import Material
    from ecx_device.materials.properties import Constant
    from ecx_device.physics.base import Context
    from ecx_device.physics.heat import HeatConduction
    from ecx_device.physics.ohmic import OhmicConduction
    from ecx_device.solvers.continuation import continue_bias
    from ecx_device.solvers.newton import CoupledProblem

    wire = Material("plain", "", {"electrical_conductivity": Constant(unit="S/m", value=1e3),
                                  "thermal_conductivity": Constant(unit="W/(m K)", value=4.0)})
    ctx = Context.create(box_domain(8, "2d"), {Region.WIRE: wire})
    problem = CoupledProblem(ctx, [OhmicConduction(), HeatConduction()], degree=1)
    try:
        assert continue_bias(problem, 0.1, max_step=0.1, min_step=1e-3).newton_iterations > 0
        F = problem.problem.solver.getKSP().getPC().getFactorMatrix()
        assert F.getMumpsIcntl(14) == WORKSPACE_PERCENT != 20
    finally:
        problem.close()
