"""Verification of the front kinetics (physics/front_kinetics.py, docs/model.md 8.8).

1. One entry point, fast transport (1D wire): the time to exchange 99 % of the wire equals
   Casu's serial estimate t_fc = N/(f P_CE) (physics/casu.py) within 2 % (the rate law gives
   t_fc / (1 - c_eq/c_D), 0.6 % more at 400 C).
2. Front-limited growth (1D, abundant supply, fast transport): the front moves at the rate law's
   V = a k_x (c_D - c_eq), the same in a 60 nm and a 120 nm wire; backward Euler is first order
   in time, so two step sizes are extrapolated (Richardson) to V within 0.5 %.
3. Detailed balance: at c = c_eq the forward and reverse rates cancel, and a symmetric front's
   conversion integrates to zero to round-off; 1 % above c_eq it converts.
4. Sphere in a bath, diffusion-limited (1D radial): the exchanged volume converges at P1's rate
   (2) under mesh refinement at a fixed zone width delta, and to the exact quasi-steady
   shrinking-core solution R^2/6 (1 - 3 xi^2 + 2 xi^3) = D c_b t / nu at first order in delta.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import brentq

from conftest import box_domain
from ecx_device.device.names import Facet, Region
from ecx_device.fem import dolfinx
from ecx_device.materials import Material
from ecx_device.materials.properties import Constant
from ecx_device.physics.base import Context, integrate
from ecx_device.physics.casu import StepBarriers, t_fc
from ecx_device.physics.front_kinetics import (BathSurface, DonorContact, FrontExchange,
                                               net_event_rate)
from ecx_device.solvers.newton import CoupledProblem
from ecx_device.units import AVOGADRO, ELEMENTARY_CHARGE

EV = ELEMENTARY_CHARGE
KB_EV = 1.380649e-23 / 1.602176634e-19  # eV/K, exact in the 2019 SI (hand values)
T0 = 673.15  # K
N = 1.8315e28  # m^-3, CdSe anion sites
OPTIONS = {"snes_rtol": 1e-11, "snes_atol": 0.0, "snes_stol": 1e-14}


def material(D=1e-8, nu=2.0, drive=0.3, **extra) -> Material:
    """Casu's wurtzite barriers (eV), a Cu2Se-like nu and a guest diffusivity D (m^2/s)."""
    values = {"exchange_attempt_frequency": 1.9e12, "interstitial_formation_barrier": 0.4 * EV,
              "interstitial_hop_barrier": 0.29 * EV, "kick_out_barrier": 0.7 * EV,
              "exchange_driving_energy": drive * EV, "cu_ion_diffusivity": D, **extra}
    return Material("test", "front kinetics test host", {
        k: Constant(unit="", source=("test",), value=v) for k, v in values.items()},
        cation="Cd", cations_per_anion=nu)


def hand_occupancies(T=T0, drive=0.3) -> tuple[float, float]:
    """c_D = exp(-E_b/kT) and c_eq = c_D exp(-E_drive/kT), by hand."""
    c_D = math.exp(-0.4 / (KB_EV * T))
    return c_D, c_D * math.exp(-drive / (KB_EV * T))


def wire(L_nm: float, cells: int, delta_nm: float, entry_sites: float, mat: Material,
         dimension="1d", bath: float | None = None, N_sites=N, T=T0):
    """The front kinetics alone on a 1D wire (donor at x = 0) or sphere (bath at r = R)."""
    domain = box_domain(cells, dimension, size_nm=L_nm)
    ctx = Context.create(domain, {Region.WIRE: mat}, heat_sink_temperature=T)
    ctx.exchanged = {Region.WIRE: mat}
    if bath is None:
        source = {"donors": (DonorContact(Facet.CU_SINK, domain.wire_area, entry_sites),)}
    else:
        source = {"bath": BathSurface(Facet.W_SINK, bath)}
    module = FrontExchange(mat, mat, N_sites, delta_nm * 1e-9, **source)
    problem = CoupledProblem(ctx, [module], degree=1, tolerance=1e-15, max_iterations=50,
                             petsc_options=OPTIONS)
    return ctx, module, problem


def seed(problem, module, distance, size_nm: float, delta_nm: float, c0: float) -> None:
    """X = 1/(1 + exp((d - s)/delta)) with d = distance(x) (nm), guest c0 everywhere."""
    problem.u["X"].interpolate(lambda x: 1 / (1 + np.exp((distance(x) - size_nm) / delta_nm)))
    problem.u["c"].x.array[:] = c0
    module.accept(problem.u)


def step(problem, module, dt: float) -> None:
    module.dt.value = dt
    result = problem.solve()
    assert result.converged, result
    module.accept(problem.u)


def exchanged(ctx, X) -> float:
    """int X dV (m^3), with the module's lumped quadrature."""
    return integrate(ctx.domain.volume(X, Region.WIRE, lumped=True), ctx.domain.mesh.comm)


def crossing(X) -> float:
    """Position (nm) where X falls through 1/2 along a 1D mesh (linear interpolation)."""
    x = X.function_space.tabulate_dof_coordinates()[:, 0]
    order = np.argsort(x)
    x, v = x[order], X.x.array[order]
    i = int(np.argmax(v < 0.5))
    return x[i - 1] + (0.5 - v[i - 1]) * (x[i] - x[i - 1]) / (v[i] - v[i - 1])


def test_single_entry_point_gives_casu_t_fc():
    """One entry site feeding a 100 nm CdSe wire (fast transport, D = 1e-8 m^2/s): the time from
    the seed to 99 % exchanged is Casu's t_fc of the sites converted, within 2 %."""
    mat = material()
    ctx, module, problem = wire(100.0, 50, 4.0, entry_sites=1.0, mat=mat)
    c_D, c_eq = hand_occupancies()
    seed(problem, module, lambda x: x[0], 12.0, 4.0, c_eq)
    volume = ctx.domain.wire_area * 100e-9
    start = exchanged(ctx, problem.u["X"]) / volume
    barriers = StepBarriers.from_ev(0.4, 0.29, 0.7)
    expected = t_fc(N * volume * (0.99 - start), T0, barriers, 1.9e12)
    speed = 74.5 / (N * ctx.domain.wire_area)  # events/s over the cross-section (m/s)
    dt, t, history = 0.5 * 4e-9 / speed, 0.0, []
    while not history or history[-1][1] < 0.99:
        step(problem, module, dt)
        t += dt
        history.append((t, exchanged(ctx, problem.u["X"]) / volume))
    (t1, f1), (t2, f2) = history[-2:]
    t99 = t1 + (0.99 - f1) * (t2 - t1) / (f2 - f1)
    print(f"single entry point: t_99 = {t99:.5g} s, Casu t_fc = {expected:.5g} s, "
          f"ratio {t99 / expected:.4f} (rate law: 1/(1 - c_eq/c_D) = {1 / (1 - c_eq / c_D):.4f})")
    assert abs(t99 / expected - 1) < 0.02


def front_speed(L_nm: float, dt_fraction: float) -> tuple[float, float]:
    """(measured, rate-law) front speed (m/s) in a wire of L_nm with abundant supply; the step is
    dt_fraction * delta / V."""
    mat = material()
    delta = 4.0
    ctx, module, problem = wire(L_nm, int(L_nm / 2), delta, entry_sites=1e6 * N ** (2 / 3)
                                * math.pi * 20e-9 ** 2, mat=mat)
    c_D, c_eq = hand_occupancies()
    V = N ** (-1 / 3) * 1.9e12 * math.exp(-0.99 / (KB_EV * T0)) * (c_D - c_eq)
    seed(problem, module, lambda x: x[0], 3 * delta, delta, c_D)
    dt = dt_fraction * delta * 1e-9 / V
    times, fronts = [], []
    while not fronts or fronts[-1] < 0.7 * L_nm:
        step(problem, module, dt)
        times.append(len(times) * dt + dt)
        fronts.append(crossing(problem.u["X"]))
    t, x = np.array(times), np.array(fronts)
    window = x > 0.3 * L_nm
    return np.polyfit(t[window], x[window], 1)[0] * 1e-9, V


def test_front_velocity_is_the_rate_law_and_independent_of_length():
    """V = a k_x (c_D - c_eq) with a = N^(-1/3): measured in 60 and 120 nm wires at two steps,
    extrapolated to dt -> 0 (first order): within 0.5 % of V, and the same in both wires."""
    speeds = {}
    for L in (60.0, 120.0):
        coarse, V = front_speed(L, 0.1)
        fine, _ = front_speed(L, 0.05)
        speeds[L] = 2 * fine - coarse
        print(f"L = {L:g} nm: V = {V:.5g} m/s, measured {coarse:.5g} / {fine:.5g}, "
              f"extrapolated {speeds[L]:.5g} ({speeds[L] / V - 1:+.2e})")
        assert abs(fine / V - 1) < 0.02
        assert abs(speeds[L] / V - 1) < 5e-3
    assert abs(speeds[60.0] / speeds[120.0] - 1) < 1e-3


def test_detailed_balance_at_the_equilibrium_occupancy():
    """The rate law's forward and reverse parts cancel at c_eq (hand value). On the mesh: a
    front symmetric about the middle of a uniform 1D wire, guest uniform at c = c_eq: the zone's
    conversion integrates to zero to round-off (forward on the product side, reverse on the host
    side, mirror images); at 1.01 c_eq it converts (> 1e-3 of the conversion's absolute
    integral). (Time-stepped, the guest the two halves trade shifts c and leaves a second-order
    drift, 3e-10 of a zone over ten steps: not a violation of the rate law.)"""
    c_D, c_eq = hand_occupancies()
    k_x = 1.9e12 * math.exp(-0.99 / (KB_EV * T0))
    assert net_event_rate(c_eq, c_eq, k_x) == 0.0 and k_x * c_eq > 0.4  # events/s, each way
    ratios = {}
    for factor in (1.0, 1.01):
        ctx, module, problem = wire(60.0, 60, 4.0, entry_sites=1.0, mat=material())
        seed(problem, module, lambda x: x[0], 30.0, 4.0, factor * c_eq)
        R = module.conversion(ctx, problem.u["c"], problem.u["X"])
        comm = ctx.domain.mesh.comm
        net = integrate(ctx.domain.volume(R, Region.WIRE, lumped=True), comm)
        gross = integrate(ctx.domain.volume(abs(R), Region.WIRE, lumped=True), comm)
        ratios[factor] = net / gross
    print(f"detailed balance: net/gross conversion {ratios[1.0]:.2e} at c_eq, "
          f"{ratios[1.01]:.2e} at 1.01 c_eq")
    assert abs(ratios[1.0]) < 1e-12
    assert ratios[1.01] > 1e-3


# -- sphere in a bath ----------------------------------------------------------------------------
R_NM, D_GUEST, C_BATH_SITES, T_BATH, N_PBS = 4.0, 1e-19, 1e-3, 473.0, 1.9e28


def bath_material() -> Material:
    """Fast front (E_c + E_d = 1 eV, f = 1e13: ~1e3 x the diffusion-limited speed), fast
    surface, guest diffusivity 1e-19 m^2/s, practically irreversible (2 eV)."""
    return material(D=D_GUEST, nu=1.0, drive=2.0, exchange_attempt_frequency=1e13,
                    interstitial_hop_barrier=0.3 * EV, kick_out_barrier=0.7 * EV,
                    surface_exchange_velocity=1e-3, bath_partition_coefficient=1.0)


def shrinking_core_thickness(t: float) -> float:
    """Exact quasi-steady shell thickness (nm): R^2/6 (1 - 3 xi^2 + 2 xi^3) = D c_b t / nu."""
    g = 6 * D_GUEST * C_BATH_SITES * t / (R_NM * 1e-9) ** 2
    xi = brentq(lambda x: 1 - 3 * x**2 + 2 * x**3 - g, 0.0, 1.0)
    return R_NM * (1 - xi)


def sphere_shell(cells: int, delta_nm: float, t_end=4000.0) -> tuple[float, float]:
    """(model, exact) shell thickness (nm) after t_end of growth from a seed shell of 3 delta;
    the model's thickness holds its exchanged volume; the exact one starts from the seed's
    equivalent time."""
    concentration = C_BATH_SITES * N_PBS / AVOGADRO  # mol/m^3 giving c_b with K_p = 1
    ctx, module, problem = wire(R_NM, cells, delta_nm, None, bath_material(),
                                dimension="spherical", bath=concentration, N_sites=N_PBS,
                                T=T_BATH)
    seed(problem, module, lambda x: R_NM - x[0], 3 * delta_nm, delta_nm, 0.0)

    def thickness() -> float:
        volume = exchanged(ctx, problem.u["X"]) * 1e27  # nm^3
        return R_NM - (R_NM**3 - 3 * volume / (4 * math.pi)) ** (1 / 3)

    xi0 = 1 - thickness() / R_NM
    t_seed = (R_NM * 1e-9) ** 2 / 6 * (1 - 3 * xi0**2 + 2 * xi0**3) / (D_GUEST * C_BATH_SITES)
    t, dt = 0.0, 1e-3
    while t < t_end * (1 - 1e-12):
        dt = min(1.2 * dt, 20.0, t_end - t)
        step(problem, module, dt)
        t += dt
    return thickness(), shrinking_core_thickness(t_end + t_seed)


def test_sphere_shell_growth_converges_to_the_shrinking_core_solution():
    """Fixed delta = 0.2 nm, h = delta/2, /4, /8: successive differences fall at order >= 1.5
    (P1: 2); delta = 0.2, 0.1, 0.05 nm with h = delta/2: the error against the exact solution
    halves with delta (first order: the zone is a smeared interface) and stays below 2.5 delta."""
    delta = 0.2
    fixed = [sphere_shell(int(R_NM / (delta / k)), delta)[0] for k in (2, 4, 8)]
    order = math.log2((fixed[0] - fixed[1]) / (fixed[1] - fixed[2]))
    errors = []
    for d in (0.2, 0.1, 0.05):
        model, exact = sphere_shell(int(round(2 * R_NM / d)), d)
        errors.append(model - exact)
    rates = [math.log2(errors[i] / errors[i + 1]) for i in range(2)]
    print(f"sphere: thickness at fixed delta {fixed} (order {order:.2f}); errors against the "
          f"exact solution {errors} nm for delta 0.2/0.1/0.05 nm (rates {rates})")
    assert order > 1.5
    assert all(0.8 < r < 1.3 for r in rates)
    assert 0 < errors[-1] < 2.5 * 0.05
