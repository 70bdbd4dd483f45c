"""Ionic space charge in Poisson's equation (physics/exchange.ionic_charge_density, docs/model.md
8.2): a 1D wire with a uniform prescribed Cu+ density against the exact Poisson-Boltzmann
solution with that fixed charge.

The wire (n-type, N_D, plus a uniform Cu+ density c N acting as a fixed positive charge) is in
equilibrium (phi_n = phi_p = 0); psi(0) = psi_0 is held 0.4 V below the neutral potential psi_inf
(n - p = N_D + c N), a depletion layer, and the far end L = 40 Debye lengths away is neutral.
With Phi(psi) = q [V_T n_i (e^(psi/V_T) - e^(psi_inf/V_T)) + V_T n_i (e^(-psi/V_T) -
e^(-psi_inf/V_T)) - (N_D + c N)(psi - psi_inf)], the first integral eps psi'^2 / 2 = Phi(psi) gives
psi' = sqrt(2 Phi(psi) / eps), integrated here from psi(0) = psi_0 with a high-order ODE solver at
tight tolerances (independent of the finite-element code). P1 must converge at
rate 2 in L2; without the ionic charge the potential is measurably different.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import box_domain, fit_rate
from scipy import integrate

from ecx_device.device.names import Facet
from ecx_device.fem import dolfinx
from ecx_device.physics.base import Context, Dirichlet
from ecx_device.physics.exchange import ionic_charge_density
from ecx_device.physics.poisson import Poisson
from ecx_device.physics.semiconductor_scaling import SemiconductorParameters
from ecx_device.solvers.newton import CoupledProblem
from ecx_device.units import BOLTZMANN, ELEMENTARY_CHARGE, VACUUM_PERMITTIVITY

T = 300.0
VT = BOLTZMANN * T / ELEMENTARY_CHARGE
N_D, N_I, EPS_R = 1e23, 1e16, 8.9          # m^-3, m^-3, -
SITES, C_ION = 2.0e28, 2.5e-6              # S sites per m^3, Cu+ per site: 5e22 m^-3
FIXED = SITES * C_ION
PSI_INF = VT * math.asinh((N_D + FIXED) / (2 * N_I))
PSI_0 = PSI_INF - 0.4
EPS = EPS_R * VACUUM_PERMITTIVITY
DEBYE = math.sqrt(EPS * VT / (ELEMENTARY_CHARGE * (N_D + FIXED)))
L_NM = 40 * DEBYE * 1e9


def _phi(psi: float) -> float:
    """Phi(psi) (J/m^3) of the module docstring, written with u = (psi - psi_inf)/V_T as
    q V_T [n_inf (e^u - 1 - u) + p_inf (e^-u - 1 + u)] (neutrality: N_D + c N = n_inf - p_inf), so
    that nothing cancels next to psi_inf."""
    u = (psi - PSI_INF) / VT
    n_inf, p_inf = N_I * math.exp(PSI_INF / VT), N_I * math.exp(-PSI_INF / VT)

    def e1(a: float) -> float:  # e^a - 1 - a
        return a * a / 2 * (1 + a / 3 * (1 + a / 4)) if abs(a) < 1e-3 else math.expm1(a) - a

    return ELEMENTARY_CHARGE * VT * (n_inf * e1(u) + p_inf * e1(-u))


def _exact(x_m: np.ndarray) -> np.ndarray:
    """psi (V) at positions x (m): the first integral psi' = sqrt(2 Phi(psi) / eps) integrated
    from psi(0) = psi_0 to high accuracy (the exact solution up to ~1e-12 V)."""
    def slope(_x, y):
        return [math.sqrt(max(2 * _phi(y[0]) / EPS, 0.0))]

    order = np.argsort(x_m)
    sol = integrate.solve_ivp(slope, (0.0, float(x_m.max())), [PSI_0], method="DOP853",
                              t_eval=x_m[order], rtol=1e-13, atol=1e-15)
    out = np.empty_like(x_m)
    out[order] = sol.y[0]
    return out


class _Ends:
    """psi_0 at the contact, psi_inf at the far (neutral) end."""

    name, unknowns = "ends", ()

    def residual(self, ctx, u, v):
        return {}

    def dirichlet(self, ctx):
        mesh = ctx.domain.mesh
        return [Dirichlet("psi", Facet.CU_SINK, dolfinx.fem.Constant(mesh, PSI_0)),
                Dirichlet("psi", Facet.W_SINK, dolfinx.fem.Constant(mesh, PSI_INF))]


def _solve(n: int, ions: bool) -> tuple[float, object]:
    d = box_domain(n, "1d", L_NM)
    ctx = Context.create(d, {})
    par = SemiconductorParameters(eps_r=EPS_R, mu_n=0.1, mu_p=0.01, tau_n=1e-9, tau_p=1e-9,
                                  donors=N_D, n_i=N_I, temperature=T)
    fixed = ionic_charge_density(dolfinx.fem.Constant(d.mesh, C_ION), 0.0, SITES, 1) \
        if ions else None
    problem = CoupledProblem(ctx, [Poisson(par, fixed_charge=fixed), _Ends()], degree=1,
                             tolerance=1e-13, petsc_options={"snes_rtol": 0.0})
    assert problem.solve().converged
    psi = problem.u["psi"]
    x = psi.function_space.tabulate_dof_coordinates()[:, 0] * 1e-9
    err = psi.x.array - _exact(x)
    # nodal (discrete) L2 error over the depletion layer and the tail, relative to the drop
    return float(np.sqrt(np.mean(err**2)) / 0.4), psi


def test_uniform_cu_charge_matches_exact_poisson_boltzmann_at_rate_2():
    ns = [100, 200, 400]
    errors = [_solve(n, ions=True)[0] for n in ns]
    rate = fit_rate([1 / n for n in ns], errors)
    print(f"\nPoisson-Boltzmann with {FIXED:.2g} m^-3 Cu+: relative errors {errors}, rate "
          f"{rate:.3f}")
    assert abs(rate - 2.0) < 0.15
    assert errors[-1] < 1e-3


def test_the_ionic_charge_matters():
    """Without the Cu+ charge the depletion layer is wider: the solution differs from the exact
    one with ions by far more than the discretisation error."""
    with_ions, _ = _solve(400, ions=True)
    without, _ = _solve(400, ions=False)
    assert without > 20 * with_ions
