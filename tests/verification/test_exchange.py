"""Verification of the exchange module (model.md 5): Nernst-Planck in a constant field against its
exact Boltzmann profile with convergence, mass conservation of a drifting pulse, and the
uniform exchange kinetics against the exact ODE solution."""

from __future__ import annotations

import math

import numpy as np

from conftest import box_domain, fit_rate
from ecx_device.device.names import Facet, Region
from ecx_device.solvers.newton import CoupledProblem
from ecx_device.fem import dolfinx, ufl
from ecx_device.materials import Material
from ecx_device.materials.properties import Constant
from ecx_device.physics.base import Context, integrate
from ecx_device.physics.exchange import CationExchange
from ecx_device.units import BOLTZMANN, ELEMENTARY_CHARGE, MESH_UNIT

T0 = 600.0  # K
VT = BOLTZMANN * T0 / ELEMENTARY_CHARGE
N_SITES = 2.0e28  # m^-3
EV = ELEMENTARY_CHARGE


def host(D_c=1e-14, D_v=1e-15, nu0=1e12, fill=100.0, kick=100.0) -> Material:
    """Constant-property host; barriers in eV (100 eV switches a reaction off)."""
    values = {"cu_ion_diffusivity": D_c, "vacancy_diffusivity": D_v, "cu_solubility_limit": 1.0,
              "exchange_attempt_frequency": nu0, "vacancy_filling_barrier": fill * EV,
              "kick_out_barrier": kick * EV}
    return Material("host", "test host", {k: Constant(unit="", source=("test",), value=v)
                                          for k, v in values.items()})


def exchange_problem(n: int, material: Material, field_V_per_m: float = 0.0, L_nm=100.0):
    """The exchange module alone on a 1D wire with closed ends (no sources, no sinks)."""
    domain = box_domain(n, "1d", size_nm=L_nm)
    ctx = Context.create(domain, {Region.WIRE: material}, heat_sink_temperature=T0)
    ctx.exchanged = {Region.WIRE: material}
    V1 = dolfinx.fem.functionspace(domain.mesh, ("Lagrange", 1))
    phi = dolfinx.fem.Function(V1)
    phi.interpolate(lambda x: -field_V_per_m * x[0] * MESH_UNIT)
    ctx.fields["psi"] = phi
    module = CationExchange(Facet.CU_SINK, Facet.W_SINK, anode=None,
                            site_density=N_SITES, reduction_velocity=0.0 + 1e-300,
                            sublimation=False)
    problem = CoupledProblem(ctx, [module], degree=1, tolerance=1e-13, max_iterations=50)
    return ctx, module, problem


def step(problem, module, dt: float) -> None:
    module.dt.value = dt
    result = problem.solve()
    assert result.converged, result
    module.accept(problem.u)


def test_drifting_pulse_conserves_mass():
    """A Gaussian Cu+ pulse drifting and spreading against closed ends keeps its mass to 1e-10."""
    ctx, module, problem = exchange_problem(64, host(), field_V_per_m=2e6)
    c = problem.u["c"]
    c.interpolate(lambda x: 1e-3 * np.exp(-((x[0] - 30.0) / 8.0) ** 2))
    module.accept(problem.u)
    mass0 = integrate(ctx.domain.volume(c, Region.WIRE), ctx.domain.mesh.comm)
    masses = []
    for _ in range(20):
        step(problem, module, 2e-4)
        masses.append(integrate(ctx.domain.volume(c, Region.WIRE), ctx.domain.mesh.comm))
    drift = max(abs(m - mass0) / mass0 for m in masses)
    print(f"pulse: largest relative mass change {drift:.3g}")
    assert drift < 1e-10, drift
    # the centre of mass moved toward the low potential at the Einstein drift velocity D E / V_T
    x = ufl.SpatialCoordinate(ctx.domain.mesh)[0]
    centre = integrate(ctx.domain.volume(c * x, Region.WIRE), ctx.domain.mesh.comm) / masses[-1]
    expected = 1e-14 * 2e6 / VT * 20 * 2e-4 / MESH_UNIT  # nm
    assert abs((centre - 30.0) - expected) < 0.05 * expected, (centre - 30.0, expected)


def test_constant_field_boltzmann_profile_converges():
    """Steady state with no-flux ends: c = M exp(x E / V_T) / int(...) (cations pile up down the
    field, phi = -E x), the exact exponential
    profile of Nernst-Planck in a constant field; L2 error rate of P1 -> 2."""
    L_nm, E = 100.0, 5e5  # field: 100 nm * 5e5 V/m = 50 mV ~ 1 V_T at 600 K
    errs, hs = [], []
    for n in (8, 16, 32, 64):
        ctx, module, problem = exchange_problem(n, host(), field_V_per_m=E, L_nm=L_nm)
        c = problem.u["c"]
        c.x.array[:] = 1e-3
        module.accept(problem.u)
        # each backward-Euler step damps the slowest mode by 1/(1 + dt D pi^2/L^2) ~ 1e-6; a
        # longer step would make the no-flux problem nearly singular (mass term ~ 1/dt)
        for _ in range(3):
            step(problem, module, 1e5)
        a = E * MESH_UNIT / VT  # per nm
        x = ufl.SpatialCoordinate(ctx.domain.mesh)[0]
        mean = 1e-3 * a * L_nm / (math.exp(a * L_nm) - 1.0)
        exact = mean * ufl.exp(a * x)
        err = math.sqrt(integrate(ctx.domain.volume((c - exact) ** 2, Region.WIRE),
                                  ctx.domain.mesh.comm))
        norm = math.sqrt(integrate(ctx.domain.volume(exact**2, Region.WIRE),
                                   ctx.domain.mesh.comm))
        errs.append(err / norm)
        hs.append(L_nm / n)
    rate = fit_rate(hs, errs)
    print(f"Nernst-Planck constant field: errors {errs}, rate {rate:.3f}")
    assert 1.9 < rate < 2.1, (rate, errs)
    assert errs[-1] < 1e-3


def _exact_vacancy_filling(c0, v0, k, t):
    """v(t) of dv/dt = -k v c, dc/dt = -2 k v c (c - 2 v = a constant)."""
    a = c0 - 2 * v0
    if abs(a) < 1e-15:
        return v0 / (1 + 2 * k * v0 * t)
    B = v0 / (a + 2 * v0)
    e = B * math.exp(-a * k * t)
    return a * e / (1 - 2 * e)


def test_uniform_exchange_kinetics_matches_ode():
    """Uniform c, v, no transport: backward Euler converges at first order to the exact solution
    of the vacancy-filling kinetics, and c + 2X stays constant."""
    c0, v0 = 0.02, 0.006
    fill = 0.6  # eV
    k = 1e12 * math.exp(-fill * EV / (BOLTZMANN * T0))
    t_end = 3.0 / (k * c0)
    errors, dts = [], []
    for nsteps in (20, 40, 80, 160):
        ctx, module, problem = exchange_problem(4, host(fill=fill))
        problem.u["c"].x.array[:] = c0
        problem.u["v"].x.array[:] = v0
        module.accept(problem.u)
        dt = t_end / nsteps
        for _ in range(nsteps):
            step(problem, module, dt)
        v_num = problem.u["v"].x.array.mean()
        X_num = problem.u["X"].x.array.mean()
        c_num = problem.u["c"].x.array.mean()
        v_ex = _exact_vacancy_filling(c0, v0, k, t_end)
        assert abs(X_num - (v0 - v_num)) < 1e-12          # each filled vacancy is one X
        assert abs(c_num + 2 * X_num - c0) < 1e-12        # Cu conserved
        errors.append(abs(v_num - v_ex) / v0)
        dts.append(dt)
    rate = fit_rate(dts, errors)
    print(f"exchange kinetics: errors {errors}, rate {rate:.3f}")
    assert 0.9 < rate < 1.1, (rate, errors)
    assert errors[-1] < 0.01
