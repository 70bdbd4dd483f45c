"""1D Joule heating with constant properties against the exact parabola (model.md 5).

    T(x) = T0 + sigma V^2 x (L - x) / (2 k L^2),   I = sigma A V / L,   P = I V.

The parabola lies in the P2 space, so P2 must reproduce it to round-off; P1 must converge at
rate 2 in L2.
"""

from __future__ import annotations

import pytest

from conftest import box_domain, constant_material, fit_rate
from ecx_device.device.names import Region
from ecx_device.solvers.newton import CoupledProblem
from ecx_device.fem import ufl
from ecx_device.physics.base import Context, integrate
from ecx_device.physics.heat import HeatConduction
from ecx_device.physics.ohmic import OhmicConduction
from ecx_device.units import MESH_UNIT

L_NM, SIGMA, K, V, T0 = 300.0, 1.0e4, 4.0, 1.0, 300.0


def _solve(n: int, degree: int):
    d = box_domain(n, "1d", L_NM)
    mat = constant_material(electrical_conductivity=SIGMA, thermal_conductivity=K)
    ctx = Context.create(d, {Region.WIRE: mat}, bias=V, heat_sink_temperature=T0)
    prob = CoupledProblem(ctx, [OhmicConduction(), HeatConduction()], degree=degree)
    assert prob.solve().converged
    x = ufl.SpatialCoordinate(d.mesh)[0] * MESH_UNIT
    L = L_NM * MESH_UNIT
    T_ex = T0 + SIGMA * V**2 * x * (L - x) / (2 * K * L**2)
    T = ctx.fields["T"]
    err = integrate(d.volume((T - T_ex) ** 2), d.mesh.comm) ** 0.5
    ref = integrate(d.volume((T_ex - T0) ** 2), d.mesh.comm) ** 0.5
    return err / ref, prob.quantities(), d, prob


def test_p2_reproduces_parabola():
    err, q, d, prob = _solve(10, 2)
    assert err < 1e-10
    current = SIGMA * d.wire_area * V / (L_NM * MESH_UNIT)
    assert q["current [A]"] == pytest.approx(current, rel=1e-10)
    assert q["cathode_current [A]"] == pytest.approx(current, rel=1e-10)
    assert q["joule_power [W]"] == pytest.approx(current * V, rel=1e-10)
    peak = T0 + SIGMA * V**2 / (8 * K)
    assert q["wire_T_max [K]"] == pytest.approx(peak, rel=1e-10)
    assert q["wire_T_max_axial_position [nm]"] == pytest.approx(L_NM / 2)
    # at the solution the equations' residuals (Dirichlet rows excluded) vanish: the norms
    # reported on a failure measure the physics, not the terminal fluxes
    norms = prob.residual_norms()
    assert norms["phi"] < 1e-10 * current and norms["T"] < 1e-10 * current * V


def test_p1_rate():
    ns = [8, 16, 32]
    errors = [_solve(n, 1)[0] for n in ns]
    assert abs(fit_rate([1 / n for n in ns], errors) - 2.0) < 0.1
