"""The 3D solver choice: Krylov + algebraic multigrid (GMRES, GAMG per field, Eisenstat-Walker
tolerances) gives the direct (LU) solution of the coupled ohmic electro-thermal device to 1e-8,
and the choice of solver follows dimension, size and unknowns."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import yaml

from ecx_device.case.loader import validate_case
from ecx_device.models import build_model
from ecx_device.solvers.newton import KRYLOV_MIN_DOFS, linear_solver

CASES = Path(__file__).parents[2] / "cases"


def _solve(data: dict, options: dict):
    """One 1 V solve of the case ``data`` with the PETSc ``options``: (phi, T, KSP, PC type)."""
    data = copy.deepcopy(data)
    data["solver"]["petsc_options"] = options
    model = build_model(validate_case(data))
    try:
        problem = model.problem
        problem.ctx.constants["bias"].value = 1.0
        result = problem.solve()
        assert result.converged, result
        ksp = problem.problem.solver.getKSP()
        if ksp.getPC().getType() == "fieldsplit":  # a failed step resets the solver: splits kept
            problem._reset_linear_solver()
            problem.u["T"].x.array[:] += 1.0
            assert problem.solve().converged
            subs = ksp.getPC().getFieldSplitSubKSP()
            assert [s.getOptionsPrefix().split("_", 2)[-1] for s in subs] == [
                "fieldsplit_phi_", "fieldsplit_T_"]
            assert [s.getPC().getType() for s in subs] == ["gamg", "gamg"]
        return (problem.u["phi"].x.array.copy(), problem.u["T"].x.array.copy(), ksp.getType(),
                ksp.getPC().getType())
    finally:
        model.close()


def test_iterative_matches_direct_3d():
    data = yaml.safe_load((CASES / "zhang2017_1V.yaml").read_text())
    data["geometry"]["dimension"] = "3d"
    data["geometry"]["mesh"] = {"wire_size": "8 nm", "contact_size": "4 nm", "metal_size": "60 nm"}
    data["exchange"] = {"enabled": False}
    data["electrical"] = {"wire_model": "ohmic"}  # the default case is drift-diffusion
    data["solver"] = {"element_degree": 1}
    phi_lu, T_lu, ksp, pc = _solve(data, {"ksp_type": "preonly", "pc_type": "lu",
                                          "pc_factor_mat_solver_type": "mumps"})
    assert (ksp, pc) == ("preonly", "lu")
    phi_it, T_it, ksp, pc = _solve(data, linear_solver(3, ["phi", "T"], dofs=10**9))
    assert (ksp, pc) == ("gmres", "fieldsplit")
    assert T_lu.max() > 300.5  # Joule heating makes T depend on phi: the coupling is exercised
    assert np.abs(phi_it - phi_lu).max() <= 1e-8 * np.abs(phi_lu).max()
    assert np.abs(T_it - T_lu).max() <= 1e-8 * (T_lu.max() - T_lu.min())


@pytest.mark.parametrize("tdim, names, dofs, pc", [
    (3, ["phi", "T"], KRYLOV_MIN_DOFS, "fieldsplit"),
    (3, ["T"], 10 * KRYLOV_MIN_DOFS, "gamg"),
    (3, ["phi", "T"], KRYLOV_MIN_DOFS - 1, "lu"),  # small: LU is faster
    (2, ["phi", "T"], 10**7, "lu"),  # 1D and 2D keep LU
    (3, ["psi", "phi_n", "phi_p"], 10**7, "lu"),  # carriers: not for AMG
    (3, ["c", "v", "X"], 10**7, "lu"),  # ions
])
def test_solver_choice(tdim, names, dofs, pc):
    options = linear_solver(tdim, names, dofs)
    assert options["pc_type"] == pc
    if pc == "fieldsplit":
        assert options["snes_ksp_ew"] and all(
            options[f"fieldsplit_{n}_pc_type"] == "gamg" for n in names)
