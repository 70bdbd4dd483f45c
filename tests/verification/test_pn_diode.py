"""1D abrupt silicon p-n diode against the Shockley law (model.md 5).

Device: 1 um of silicon, N_A = 1e17 cm^-3 on the anode half (cu_sink, biased), N_D = 1e16 cm^-3
on the cathode half (w_sink, grounded), ohmic contacts, mu_n = 1400, mu_p = 450 cm^2/(V s),
tau_n = tau_p = 1e-7 s, T = 300 K, eps_r = 11.7, n_i = 1e10 cm^-3 (the customary room-temperature
value; N_c, N_v, E_g of Si would give 6.7e9 cm^-3). 1001 nodes, P1.

Both neutral regions (0.15-0.47 um) are far shorter than the diffusion lengths
(L_n = sqrt(D_n tau) = 19 um, L_p = 11 um), so the short-diode law applies (Sze & Ng, Physics of
Semiconductor Devices, 3rd ed., 2007, ch. 2, with the neutral widths in place of the diffusion
lengths and an ohmic contact as the infinite-recombination-velocity sink):

    J = J_s(V) (exp(V / V_T) - 1),   J_s = q n_i^2 (D_n / (N_A W_p) + D_p / (N_D W_n)),
    W_{p,n} = L/2 - x_{p,n},   x_n = W N_A / (N_A + N_D),   x_p = W N_D / (N_A + N_D),
    W = sqrt(2 eps (V_bi - V - c) / q (1/N_A + 1/N_D)),   V_bi = V_T ln(N_A N_D / n_i^2),

with c = 0 in the textbook depletion approximation and c = 2 V_T with the majority-carrier-tail
correction (Sze & Ng, ch. 2).

Tolerances, from what the theory leaves out (not from the code's output):
- Depletion-layer SRH recombination (Sah-Noyce-Shockley) adds a current ~ exp(V / 2 V_T): about
  10 % of the diffusion current at 0.3 V for tau = 1e-7 s, falling to 0.2 % at 0.6 V.
- The depletion approximation places the edges of the neutral regions only to within the
  majority-carrier tails: the 2 V_T correction moves W_n by 4-5 %.
- At 0.6 V the injected hole density reaches ~1 % of N_D and the ohmic drop starts to show (~2 %).
  Hence 15 % for the textbook law over 0.3-0.6 V, and an ideality factor within 0.05 of 1 (the
  bias dependence of W_n alone gives 1.02). With recombination switched off (tau = 1e-3 s) the
  first two items vanish or are corrected for, and the law with c = 2 V_T must hold to 2 % over
  0.3-0.55 V.
- Current continuity: anode and cathode reaction fluxes must agree to 1e-8 relative, or to the
  double-precision resolution of the reaction flux where that is coarser (low bias, see
  ``current_resolution [A]`` of :class:`DriftDiffusion`).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from conftest import box_domain
from ecx_device.device.names import Facet
from ecx_device.solvers.newton import CoupledProblem
from ecx_device.fem import ufl
from ecx_device.physics.base import Context
from ecx_device.physics.carriers import DriftDiffusion
from ecx_device.physics.contacts import OhmicContact
from ecx_device.physics.poisson import Poisson
from ecx_device.physics.semiconductor_scaling import SemiconductorParameters
from ecx_device.solvers.continuation import continue_bias
from ecx_device.units import ELEMENTARY_CHARGE as Q

LENGTH = 1e-6  # m
NODES = 1001
N_A, N_D, N_I = 1e23, 1e22, 1e16  # m^-3 (1e17, 1e16, 1e10 cm^-3)
MU_N, MU_P = 0.14, 0.045  # m^2/(V s)
#: Newton stops on the update alone: the relative residual test compares with a first residual
#: dominated by the bias jump at the contacts and stops before the current rows converge.
SOLVER = {"snes_rtol": 0.0}


def silicon_diode(tau: float) -> SemiconductorParameters:
    """The abrupt junction at L/2, p side at x = 0."""
    x_j = LENGTH / 2
    return SemiconductorParameters(
        eps_r=11.7, mu_n=MU_N, mu_p=MU_P, tau_n=tau, tau_p=tau, n_i=N_I, reference_density=N_A,
        donors=lambda x: ufl.conditional(ufl.ge(x[0], x_j), N_D, 0.0),
        acceptors=lambda x: ufl.conditional(ufl.lt(x[0], x_j), N_A, 0.0))


def shockley(par: SemiconductorParameters, V: float, tail: float = 0.0) -> float:
    """Short-diode current density (A/m^2) with depletion-approximation neutral widths."""
    vt = par.thermal_voltage
    v_bi = vt * math.log(N_A * N_D / N_I**2)
    w = math.sqrt(2 * par.permittivity * (v_bi - V - tail) / Q * (1 / N_A + 1 / N_D))
    w_n = LENGTH / 2 - w * N_A / (N_A + N_D)
    w_p = LENGTH / 2 - w * N_D / (N_A + N_D)
    j_s = Q * N_I**2 * (MU_N * vt / (N_A * w_p) + MU_P * vt / (N_D * w_n))
    return j_s * math.expm1(V / vt)


def sweep(tau: float, voltages) -> tuple[SemiconductorParameters, list[dict]]:
    """Forward sweep from equilibrium; quantities per bias, currents as densities (A/m^2)."""
    d = box_domain(NODES - 1, "1d", LENGTH / 1e-9)
    par = silicon_diode(tau)
    ctx = Context.create(d, {})
    modules = [Poisson(par), DriftDiffusion(par), OhmicContact(par, Facet.CU_SINK),
               OhmicContact(par, Facet.W_SINK)]
    prob = CoupledProblem(ctx, modules, degree=1, petsc_options=SOLVER)
    assert prob.solve().converged
    rows = []
    for V in voltages:
        continue_bias(prob, float(V), max_step=0.05, min_step=1e-3)
        q = prob.quantities()
        rows.append({"V": float(V), "J": q["current [A]"] / d.wire_area,
                     "J_cathode": q["cathode_current [A]"] / d.wire_area,
                     "mismatch": q["current_mismatch [-]"],
                     "resolution": q["current_resolution [A]"] / d.wire_area})
    return par, rows


@pytest.fixture(scope="module")
def srh_sweep():
    return sweep(1e-7, np.round(np.arange(0.0, 0.8001, 0.05), 10))


def test_shockley_short_diode(srh_sweep):
    par, rows = srh_sweep
    window = [r for r in rows if 0.3 - 1e-9 <= r["V"] <= 0.6 + 1e-9]
    errors = [r["J"] / shockley(par, r["V"]) - 1 for r in window]
    print("Shockley rel. errors 0.3-0.6 V:", [f"{e:+.3f}" for e in errors])
    assert max(abs(e) for e in errors) < 0.15
    V = np.array([r["V"] for r in window])
    slope = np.polyfit(V, np.log([r["J"] for r in window]), 1)[0]
    ideality = 1 / (slope * par.thermal_voltage)
    print(f"ideality factor 0.3-0.6 V: {ideality:.4f}")
    assert abs(ideality - 1) < 0.05


def test_current_continuity(srh_sweep):
    par, rows = srh_sweep
    for r in rows:
        print(f"V={r['V']:.2f} J={r['J']:.5e} mismatch={r['mismatch']:.2e} "
              f"resolution={r['resolution'] / max(abs(r['J']), 1e-300):.2e}")
        if r["V"] == 0.0:  # equilibrium: phi_n = phi_p = 0 is exact, so no current at all
            floor = r["resolution"] + 1e-12 * shockley(par, 0.05)
            assert abs(r["J"]) <= floor and abs(r["J_cathode"]) <= floor
        else:
            assert r["mismatch"] <= 1e-8 + r["resolution"] / abs(r["J"])
    assert all(r["mismatch"] < 1e-8 for r in rows if r["V"] >= 0.55)


def test_recombination_free_diode():
    par, rows = sweep(1e-3, np.round(np.arange(0.05, 0.5501, 0.05), 10))
    errors = [r["J"] / shockley(par, r["V"], tail=2 * par.thermal_voltage) - 1
              for r in rows if r["V"] >= 0.3 - 1e-9]
    print("corrected Shockley rel. errors 0.3-0.55 V:", [f"{e:+.4f}" for e in errors])
    assert max(abs(e) for e in errors) < 0.02
