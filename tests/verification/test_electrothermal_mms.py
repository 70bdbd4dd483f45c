"""Manufactured-solution convergence of the heat and current-continuity forms (model.md 5).

Each exact solution is written once in UFL on the mesh coordinate (nm); its source term is derived
symbolically, in SI, from the same flux the module assembles. The exact solutions vanish on the
Dirichlet boundaries (and have zero normal derivative on the axisymmetric r = 0 axis), so the
module's own boundary conditions apply unchanged. Expected L2 rates: P1 -> 2, P2 -> 3 (+-0.1).
"""

from __future__ import annotations

import math

import pytest

from conftest import box_domain, constant_material, fit_rate
from ecx_device.device.names import Region
from ecx_device.solvers.newton import CoupledProblem
from ecx_device.fem import ufl
from ecx_device.materials import Material
from ecx_device.materials.properties import Table, UflOps
from ecx_device.physics.base import Context, integrate
from ecx_device.physics.heat import HeatConduction
from ecx_device.physics.ohmic import OhmicConduction
from ecx_device.units import MESH_UNIT

SIZE_NM = 100.0


class ManufacturedSource:
    """Test-only module adding -int f v dV to one field's equation."""

    name = "mms"
    unknowns = ()

    def __init__(self, field: str, source):
        self.field, self.source = field, source

    def residual(self, ctx, u, v):
        return {self.field: -ctx.domain.volume(self.source * v[self.field])}


def _exact(domain, amplitude: float):
    """A smooth profile that vanishes on the Dirichlet sides (z = 0, z = H, outer side)."""
    x = ufl.SpatialCoordinate(domain.mesh)
    z = x[domain.axial_index] / SIZE_NM
    r = x[0] / SIZE_NM
    if domain.dimension == "axisymmetric":
        return amplitude * ufl.cos(math.pi * r / 2) * ufl.sin(math.pi * z)
    return amplitude * ufl.sin(math.pi * r) * ufl.sin(math.pi * z)


def _divergence(domain, flux):
    """SI divergence of a vector flux, with the 1/r term in axisymmetric form."""
    div = ufl.div(flux) / MESH_UNIT
    if domain.dimension == "axisymmetric":
        div += flux[0] / (ufl.SpatialCoordinate(domain.mesh)[0] * MESH_UNIT)
    return div


def _solve_heat(n: int, degree: int, dimension: str) -> float:
    """Relative L2 error of T for -div(k(T) grad T) = f with k linear in T (nonlinear problem)."""
    d = box_domain(n, dimension, SIZE_NM)
    T0 = 300.0
    k = Table(unit="W/(m K)", source=("test",), temperature=(300.0, 700.0), values=(4.0, 8.0))
    mat = Material("k_linear", "", {"thermal_conductivity": k})
    ctx = Context.create(d, {Region.WIRE: mat}, heat_sink_temperature=T0)
    T_ex = T0 + _exact(d, 200.0)
    f = -_divergence(d, k(T_ex, UflOps) * d.grad(T_ex))
    prob = CoupledProblem(ctx, [HeatConduction(), ManufacturedSource("T", f)], degree=degree)
    res = prob.solve()
    assert res.converged, res
    T = ctx.fields["T"]
    comm = d.mesh.comm
    err = integrate(d.volume((T - T_ex) ** 2), comm) ** 0.5
    return err / integrate(d.volume((T_ex - T0) ** 2), comm) ** 0.5


def _solve_current(n: int, degree: int, dimension: str) -> float:
    """Relative L2 error of phi for -div(sigma grad phi) = f (constant sigma)."""
    d = box_domain(n, dimension, SIZE_NM)
    sigma = 100.0
    ctx = Context.create(d, {Region.WIRE: constant_material(electrical_conductivity=sigma)})
    phi_ex = _exact(d, 0.5)
    f = -_divergence(d, sigma * d.grad(phi_ex))
    prob = CoupledProblem(ctx, [OhmicConduction(), ManufacturedSource("phi", f)], degree=degree)
    assert prob.solve().converged
    phi = ctx.fields["phi"]
    comm = d.mesh.comm
    err = integrate(d.volume((phi - phi_ex) ** 2), comm) ** 0.5
    return err / integrate(d.volume(phi_ex**2), comm) ** 0.5


@pytest.mark.parametrize("dimension", ["planar", "axisymmetric"])
@pytest.mark.parametrize("degree", [1, 2])
@pytest.mark.parametrize("solver", [_solve_heat, _solve_current], ids=["heat", "current"])
def test_mms_rates(solver, degree, dimension):
    ns = [8, 16, 32]
    errors = [solver(n, degree, dimension) for n in ns]
    rate = fit_rate([1.0 / n for n in ns], errors)
    print(f"{solver.__name__} P{degree} {dimension}: errors {errors}, rate {rate:.3f}")
    assert abs(rate - (degree + 1)) < 0.1
