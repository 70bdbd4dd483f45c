"""The Newton Jacobian of the fitted carrier problem (solvers/assembled_terms.py with
physics/carriers_fitted.py) is the derivative of its residual.

The Jacobian has three parts assembled by different code: the UFL blocks (Poisson's stiffness,
the contacts), the edge fluxes, and the lumped terms (Poisson's carrier charge, the
recombination), whose diagonals come from nodal derivatives and not from UFL
(physics/lumped.py). Each part is checked against an independent value: the central
difference of the assembled residual along a random direction, on a silicon Schottky diode (psi
fixed at the barrier, phi_n free: Dirichlet columns in free rows) under forward bias, with a
non-uniform temperature field (the nodal data follow T) and short lifetimes (recombination as
large as the fluxes), in 1D and in axisymmetric 2D. Without the lumped terms' diagonals the
same check fails by orders of magnitude in Poisson's and the minority carrier's rows.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from conftest import box_domain
from test_self_heating import _schottky_contacts, _schottky_params

from ecx_device.device.names import Facet, Region
from ecx_device.fem import dolfinx
from ecx_device.physics.base import Context
from ecx_device.physics.carriers_fitted import FittedDriftDiffusion
from ecx_device.physics.lumped import LumpedTerm
from ecx_device.physics.poisson import Poisson
from ecx_device.solvers.continuation import continue_bias
from ecx_device.solvers.newton import CoupledProblem

STEP = 1e-6  # relative to the largest unknown (V): difference error ~ (STEP / V_T)^2


def _diode(dimension: str) -> CoupledProblem:
    device = box_domain(40 if dimension == "1d" else 12, dimension, 1000.0)
    wire, _ = device.restrict(Region.WIRE)
    ctx = Context.create(wire, {})
    T = dolfinx.fem.Function(dolfinx.fem.functionspace(wire.mesh, ("Lagrange", 1)), name="T")
    T.interpolate(lambda x: 300.0 + 40.0 * x[0] / 1000.0 + 15.0 * x[-1 if dimension == "1d"
                                                                      else 1] / 1000.0)
    ctx.fields["T"] = T
    # lifetimes of 1 ps: recombination then weighs as much as the fluxes of 25-83 nm cells
    # (h^2 / (D tau) ~ 0.2-2), so a wrong recombination diagonal cannot hide in the check
    par = dataclasses.replace(_schottky_params(T), tau_n=1e-12, tau_p=1e-12)
    modules = [Poisson(par, lumped=True), FittedDriftDiffusion(par), *_schottky_contacts(par)]
    problem = CoupledProblem(ctx, modules, degree=1, petsc_options={"snes_rtol": 0.0})
    continue_bias(problem, 0.25, max_step=0.05, min_step=1e-4)
    return problem


def _residual(problem: CoupledProblem, x) -> np.ndarray:
    b = problem.problem.b
    problem._terms._residual(problem.problem.solver, x, b)
    return b.array.copy()


def _errors(problem: CoupledProblem, seed: int = 7) -> dict[str, float]:
    """Per field, max |J v - D v| / max |D v| over its owned rows, D v the central difference
    of the residual along a random direction v on the free dofs."""
    p, terms = problem.problem, problem._terms
    blocks = p.x.getAttr("_blocks")
    snes, x = p.solver, p.x.copy()
    x.setAttr("_blocks", blocks)
    terms._jacobian(snes, x, p.A, p.P_mat)  # the assembly itself (not a lagged skip)
    rng = np.random.default_rng(seed)
    v = x.duplicate()
    rows, start = {}, 0
    for n in problem.names:
        owned = problem.u[n].function_space.dofmap.index_map.size_local
        v.array[start:start + owned] = rng.uniform(-1.0, 1.0, owned) * ~terms._fixed[n][:owned]
        rows[n] = slice(start, start + owned)
        start += owned
    h = STEP * max(1.0, np.abs(x.array).max())
    ends = []
    for sign in (1.0, -1.0):
        end = x.copy()
        end.setAttr("_blocks", blocks)
        end.axpy(sign * h, v)
        ends.append(_residual(problem, end))
    difference = (ends[0] - ends[1]) / (2 * h)
    jv = x.duplicate()
    p.A.mult(v, jv)
    return {n: np.abs(jv.array[r] - difference[r]).max() / np.abs(difference[r]).max()
            for n, r in rows.items()}


@pytest.mark.parametrize("dimension", ["1d", "axisymmetric"])
def test_jacobian_is_the_derivative_of_the_residual(dimension):
    problem = _diode(dimension)
    errors = _errors(problem)
    # the same check with the lumped terms' diagonals left out of the Jacobian must fail
    lumped = [t for t in problem._terms.terms if isinstance(t, LumpedTerm)]
    assert sorted(r for t in lumped for r in t.rows) == ["phi_n", "phi_p", "psi"]
    for t in lumped:
        t._share = 0.0 * t._share
    without = _errors(problem)
    print(f"\n{dimension}: max |J v - D v| / max |D v| per field "
          + ", ".join(f"{n} {e:.1e}" for n, e in errors.items())
          + "; without the lumped diagonals "
          + ", ".join(f"{n} {e:.1e}" for n, e in without.items()))
    assert max(errors.values()) < 1e-6
    # (the holes are the minority carrier of this n-type diode: recombination shapes their rows)
    assert without["psi"] > 1e-2 and without["phi_p"] > 1e-2


def test_poisson_alone_jacobian_is_the_derivative_of_the_residual():
    """One unknown (the equilibrium Poisson problem that ``equilibrium_start`` solves before
    every fitted sweep): the single-form path of the assembly, lumped charge included."""
    from test_fitted_fluxes import _cylinder, _heavy_diode

    from ecx_device.physics.contacts import OhmicContact

    # the heavily doped axisymmetric diode of test_fitted_fluxes.py: C_0 = the doping, so the
    # charge weighs like the stiffness of its 31 nm cells
    par = _heavy_diode()
    ctx = Context.create(_cylinder(32), {})
    problem = CoupledProblem(ctx, [Poisson(par, lumped=True), OhmicContact(par, Facet.CU_SINK),
                                   OhmicContact(par, Facet.W_SINK)],
                             degree=1, petsc_options={"snes_rtol": 0.0})
    assert problem.names == ["psi"]
    assert problem.solve().converged  # the check's state: the equilibrium (n, p ~ C_0)
    errors = _errors(problem)
    (term,) = [t for t in problem._terms.terms if isinstance(t, LumpedTerm)]
    term._share = 0.0 * term._share
    without = _errors(problem)
    print(f"\nPoisson alone: {errors['psi']:.1e}, without the lumped diagonal "
          f"{without['psi']:.1e}")
    assert errors["psi"] < 1e-6
    assert without["psi"] > 1e-2
