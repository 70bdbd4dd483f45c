"""Verification of the exchange module (model.md 5): Nernst-Planck in a constant field against its
exact Boltzmann profile with convergence, mass conservation of a drifting pulse, and the
uniform exchange kinetics against the exact ODE solution."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import box_domain, fit_rate

from ecx_device.device.names import Facet, Region
from ecx_device.fem import dolfinx, ufl
from ecx_device.materials import Material, load_material
from ecx_device.materials.properties import Constant
from ecx_device.physics.base import Context, integrate
from ecx_device.physics.exchange import CationExchange
from ecx_device.solvers.newton import CoupledProblem
from ecx_device.units import BOLTZMANN, ELEMENTARY_CHARGE, MESH_UNIT

T0 = 600.0  # K
VT = BOLTZMANN * T0 / ELEMENTARY_CHARGE
N_SITES = 2.0e28  # m^-3
EV = ELEMENTARY_CHARGE


def host(D_c=1e-14, D_v=1e-15, nu0=1e12, fill=100.0, kick=100.0, c_lim=1.0, form=0.0,
         s_cd=1e-3, D_cd=1e-20, alpha_v=0.1) -> Material:
    """Constant-property host; barriers in eV (100 eV switches a reaction off). The Cd metal
    vapour pressure is the real CdS_nanowire record (Alcock et al.), the congruent CdS one a
    constant."""
    values = {"cu_ion_diffusivity": D_c, "vacancy_diffusivity": D_v, "cu_solubility_limit": c_lim,
              "exchange_attempt_frequency": nu0, "vacancy_filling_barrier": fill * EV,
              "kick_out_barrier": kick * EV, "interstitial_formation_barrier": form * EV,
              "cd_metal_solubility": s_cd, "cd_diffusivity": D_cd,
              "evaporation_coefficient": alpha_v, "cd_equilibrium_pressure": 1e-3,
              "interstitial_hop_barrier": 0.29 * EV, "interstitial_hop_distance": 0.3e-9}
    props = {k: Constant(unit="", source=("test",), value=v) for k, v in values.items()}
    props["cd_metal_vapour_pressure"] = \
        load_material("CdS_nanowire").properties["cd_metal_vapour_pressure"]
    return Material("host", "test host", props)


def exchange_problem(n: int, material: Material, field_V_per_m: float = 0.0, L_nm=100.0,
                     T=T0, evaporation=False, supply=None, metal_per_sulfur=2.0, anode=None):
    """The exchange module alone on a 1D wire with closed ends (no sources, no sinks; the
    displaced Cd's evaporation from the lateral surface and a surface Cu supply if asked)."""
    domain = box_domain(n, "1d", size_nm=L_nm)
    ctx = Context.create(domain, {Region.WIRE: material}, heat_sink_temperature=T)
    ctx.exchanged = {Region.WIRE: material}
    V1 = dolfinx.fem.functionspace(domain.mesh, ("Lagrange", 1))
    phi = dolfinx.fem.Function(V1)
    phi.interpolate(lambda x: -field_V_per_m * x[0] * MESH_UNIT)
    ctx.fields["psi"] = phi
    ctx.fields["phi_n"] = dolfinx.fem.Function(V1)  # read by the balance forms only
    module = CationExchange(Facet.CU_SINK, Facet.W_SINK, anode=anode,
                            site_density=N_SITES, reduction_velocity=0.0 + 1e-300,
                            sublimation=False, evaporation=evaporation, supply=supply,
                            metal_per_sulfur=metal_per_sulfur)
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


# -- displaced Cd and the reversible exchange (issue 12) -------------------------------------------

#: Delta G_r of 2 Cu + CdS -> Cu2S + Cd per formula unit from the NBS formation energies by hand
#: (docs/model.md 8.2): -86.2 - (-156.5) kJ/mol.
DG_CU = 70.3e3 / 6.02214076e23  # J


def _detailed_balance_x(c_total: float, cd_minus_x: float, K: float, c_s: float,
                        s_cd: float) -> float:
    """X of the closed wire at detailed balance, X a_Cd = K f_Cd a^2, with the invariants
    c + 2X = c_total, cd - X = cd_minus_x and v = 0 (f_Cd = 1 - X): bisection on X."""
    def g(X):
        c, cd = c_total - 2 * X, cd_minus_x + X
        return X * cd / s_cd - K * (1 - X) * (c / c_s) ** 2
    lo, hi = max(0.0, -cd_minus_x), c_total / 2
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if g(mid) < 0 else (lo, mid)
    return 0.5 * (lo + hi)


def _relax(problem, module, dt0=1e-10, steps=60):
    """Backward Euler with doubling steps, long past every rate's time scale."""
    dt = dt0
    for _ in range(steps):
        step(problem, module, dt)
        dt *= 2


def test_closed_wire_relaxes_to_detailed_balance_whatever_the_rates():
    """A closed wire (no supply, no cathode, no evaporation or sublimation) started away from
    equilibrium, once from the Cu-rich side (Cu+ and no exchange) and once from the exchanged
    side (no Cu+, exchanged and displaced Cd), with two attempt frequencies 100x apart: all
    four end at the X of X a_Cd = K f_Cd a^2 solved here by bisection with K from the hand
    Delta G_r, at every node, to 1e-6."""
    form, c_lim, s_cd = 0.2, 0.01, 1e-3
    kT = BOLTZMANN * T0
    c_s = c_lim * math.exp(-form * EV / kT)
    K = math.exp(-DG_CU / kT)
    c_total = 1e-3
    expected = _detailed_balance_x(c_total, 0.0, K, c_s, s_cd)
    assert 1e-5 < expected < 0.4 * c_total  # a real equilibrium, far from both starts
    ends = []
    for nu0 in (1e12, 1e10):
        for start in ({"c": c_total, "X": 0.0, "cd": 0.0},
                      {"c": 0.0, "X": c_total / 2, "cd": c_total / 2}):
            _, module, problem = exchange_problem(
                4, host(nu0=nu0, kick=0.7, c_lim=c_lim, form=form, s_cd=s_cd))
            for name, value in start.items():
                problem.u[name].x.array[:] = value
            module.accept(problem.u)
            _relax(problem, module)
            u = {n: problem.u[n].x.array for n in ("c", "X", "cd", "v")}
            ratio = u["X"] * u["cd"] / s_cd / (K * (1 - u["X"] - u["v"]) * (u["c"] / c_s) ** 2)
            print(f"nu0 {nu0:g}, start {start}: X = {u['X'].mean():.10g} (expected "
                  f"{expected:.10g}), detailed-balance ratio {ratio.min():.8f}-{ratio.max():.8f}")
            assert np.allclose(u["X"], expected, rtol=1e-6, atol=0), (u["X"], expected)
            assert np.allclose(ratio, 1.0, rtol=1e-6, atol=0)
            assert np.allclose(u["c"] + 2 * u["X"], c_total, rtol=1e-12, atol=0)
            ends.append(u["X"].mean())
    assert max(ends) - min(ends) < 1e-6 * expected


@pytest.mark.parametrize("T", [500.0, 600.0])
def test_evaporation_flux_is_hertz_knudsen_at_the_cd_activity(T):
    """A 1D wire with uniform displaced Cd and every reaction off: the evaporation rate the
    module reports equals alpha_v p a_Cd / sqrt(2 pi m_Cd k T) x the lateral area pi d L, with
    p from Alcock et al.'s formula over Cd(s) (500 K) or Cd(l) (600 K) written here; and the Cd
    the wire lost in the step is dt x that rate."""
    s_cd, alpha_v, cd0, L_nm = 1e-3, 0.1, 2e-5, 100.0
    ctx, module, problem = exchange_problem(8, host(s_cd=s_cd, alpha_v=alpha_v), L_nm=L_nm, T=T,
                                            evaporation=True)
    problem.u["cd"].x.array[:] = cd0
    module.accept(problem.u)
    dt = 1e-6  # short: cd moves little (backward Euler makes the loss dt x the end rate anyway)
    module.dt.value = dt
    assert problem.solve().converged
    cd = problem.u["cd"].x.array
    assert np.ptp(cd) < 1e-12 * cd.mean()  # stays uniform (lateral loss everywhere)
    log10_p = 10.945 - 5799 / T if T < 594 else 10.248 - 5392 / T  # Pa
    mass = 112.414 * 1.66053906660e-27  # kg
    area = math.pi * 40e-9 * L_nm * 1e-9  # m^2 (box_domain: 40 nm wire)
    expected = (alpha_v * 10**log10_p * (cd.mean() / s_cd)
                / math.sqrt(2 * math.pi * mass * BOLTZMANN * T) * area)
    b = ctx.evaluate("b", lambda: module.balance_forms(ctx))
    lost = N_SITES * (cd0 - cd.mean()) * math.pi * (20e-9) ** 2 * L_nm * 1e-9  # atoms
    print(f"T = {T} K: evaporation {b['cd_evaporation_rate']:.10g} /s, Hertz-Knudsen "
          f"{expected:.10g} /s; lost in the step {lost / dt:.10g} /s")
    assert b["cd_evaporation_rate"] == pytest.approx(expected, rel=1e-9)  # data to 12 digits (Ea: ~2e-10)
    assert lost / dt == pytest.approx(expected, rel=1e-9)


def test_cd_and_cu_balances_close_in_a_short_exchange_run():
    """600 K, a Cu supply on the whole lateral surface, kick-out on, evaporation on: over 30
    steps Cd on sites + displaced + evaporated = initial and Cu in the wire = Cu supplied, each
    to 1e-9 of what moved; and Cd did evaporate (the balance is not trivially closed)."""
    from ecx_device.physics.exchange import CuSupply
    ctx, module, problem = exchange_problem(
        16, host(kick=0.7, c_lim=0.01, form=0.2, s_cd=1e-3, D_cd=1e-18, fill=0.25),
        T=600.0, evaporation=True, supply=CuSupply(Facet.WIRE_SURFACE))
    problem.u["v"].x.array[:] = 1e-4  # some vacancies, so r_v runs too
    module.accept(problem.u)
    b0 = ctx.evaluate("b", lambda: module.balance_forms(ctx))
    cu_in = evaporated = 0.0
    dt = 1e-7
    for _ in range(30):
        module.dt.value = dt
        assert problem.solve().converged
        b = ctx.evaluate("b", lambda: module.balance_forms(ctx))
        cu_in += dt * b["cu_in_rate_formula"]
        evaporated += dt * b["cd_evaporation_rate"]
        module.accept(problem.u)
        dt *= 1.5
    b = ctx.evaluate("b", lambda: module.balance_forms(ctx))
    cu_gain = b["cu_mobile"] + b["cu_lattice"] - b0["cu_mobile"] - b0["cu_lattice"]
    cd_lost = b["cd_missing"] - b0["cd_missing"]
    print(f"Cu: gained {cu_gain:.6g}, supplied {cu_in:.6g}; Cd: lost {cd_lost:.6g}, "
          f"evaporated {evaporated:.6g}, displaced {b['cd_displaced']:.3g}, "
          f"exchanged {b['cu_lattice'] / 2:.3g}")
    assert evaporated > 1e-3 * b["cd_displaced"] > 0
    assert abs(cu_gain - cu_in) <= 1e-9 * cu_in
    assert abs(cd_lost - evaporated) <= 1e-9 * evaporated


# -- ion-specific transport and the product stoichiometry (issue 12 item 4) ------------------------

def _regularised_power(a: float, nu: float, eps: float = 1e-3) -> float:
    """a^nu as the docstring of physics/exchange.py states it, written here by hand:
    a^2 (a^2 + eps^2)^((nu - 2)/2)."""
    return a * a * (a * a + eps * eps) ** ((nu - 2) / 2)


def test_closed_wire_with_an_al2s3_product_conserves_c_plus_nu_x():
    """A closed wire with nu = 2/3 (Al2S3: 2/3 metal atom per converted S site), started with
    mobile ions only: c + nu X stays at its start to 1e-12 at every node through 60 doubling
    steps, the exchange really ran (X far from 0), and it ends at the detailed balance
    X a_Cd = K f_Cd a^nu of the stated smooth power, solved here by bisection."""
    nu, form, c_lim, s_cd, c_total = 2.0 / 3.0, 0.2, 0.01, 1e-3, 1e-3
    kT = BOLTZMANN * T0
    c_s = c_lim * math.exp(-form * EV / kT)
    K = math.exp(-DG_CU / kT)
    _, module, problem = exchange_problem(4, host(kick=0.7, c_lim=c_lim, form=form, s_cd=s_cd),
                                          metal_per_sulfur=nu)
    problem.u["c"].x.array[:] = c_total
    module.accept(problem.u)
    dt = 1e-10
    for _ in range(60):
        step(problem, module, dt)
        u = {n: problem.u[n].x.array for n in ("c", "X", "cd")}
        assert np.allclose(u["c"] + nu * u["X"], c_total, rtol=1e-12, atol=0)
        dt *= 2

    def g(X):  # detailed balance residual along the invariants c = c_total - nu X, cd = X
        return X * X / s_cd - K * (1 - X) * _regularised_power((c_total - nu * X) / c_s, nu)
    lo, hi = 0.0, c_total / nu
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if g(mid) < 0 else (lo, mid)
    expected = 0.5 * (lo + hi)
    print(f"nu = 2/3: X = {u['X'].mean():.10g}, detailed balance {expected:.10g}, "
          f"c + nu X - c_total = {np.abs(u['c'] + nu * u['X'] - c_total).max():.3g}")
    assert 1e-5 < expected < 0.9 * c_total / nu
    assert np.allclose(u["X"], expected, rtol=1e-6, atol=0)


@pytest.mark.parametrize(("d0_ratio", "shift_ev"), [(1.0, 0.0), (1.0, 0.24), (0.5, 1.0)])
def test_anode_ion_scales_the_lattice_diffusivity_and_the_uptake_hop(d0_ratio, shift_ev):
    """With an anode whose ion has D0 ratio r and migration energy dE above Cu+'s, the module's
    lattice diffusivity is D_host r exp(-dE/kT) and its uptake limit c_lim N a nu0
    exp(-(E_hop + dE)/kT), both worked here by hand (a = 0.3 nm, E_hop = 0.29 eV)."""
    from ecx_device.physics.exchange import AnodeKinetics

    anode = AnodeKinetics(equilibrium_voltage=None, exchange_current=lambda T, ops: 1e4,
                          diffusivity_prefactor_ratio=d0_ratio,
                          migration_energy_shift=shift_ev * EV)
    D_c, nu0, c_lim = 1e-14, 1e12, 0.01
    ctx, module, _ = exchange_problem(4, host(D_c=D_c, nu0=nu0, c_lim=c_lim, form=0.2),
                                      anode=anode)
    zero = dolfinx.fem.Constant(ctx.domain.mesh, 0.0)
    one = dolfinx.fem.Constant(ctx.domain.mesh, 1.0)
    values = ctx.evaluate("t", lambda: {
        "D": ctx.domain.volume(module.cu_diffusivity(ctx, zero), Region.WIRE),
        "J": ctx.domain.volume(module.uptake_limit(ctx), Region.WIRE),
        "V": ctx.domain.volume(one, Region.WIRE)})
    kT = BOLTZMANN * T0
    D_expected = D_c * d0_ratio * math.exp(-shift_ev * EV / kT)
    J_expected = c_lim * N_SITES * 0.3e-9 * nu0 * math.exp(-(0.29 + shift_ev) * EV / kT)
    assert values["D"] / values["V"] == pytest.approx(D_expected, rel=1e-12)
    assert values["J"] / values["V"] == pytest.approx(J_expected, rel=1e-12)
