"""Manufactured solution for the scaled nonlinear Poisson equation (model.md 5).

Poisson-Boltzmann with frozen quasi-Fermi potentials phi_n = phi_p = V (1 - x/L) on a 1D layer
with a smooth p-n doping profile N(x) = N_0 tanh((x - L/2)/w):

    -div(eps grad psi) = q (p - n + N) + f,
    psi_ex = psi_b tanh((x - L/2)/w) / tanh(L/2w) + V (1 - x/L) + a sin(pi x / L),

with psi_b = V_T asinh(N(L) / 2 n_i) and f derived symbolically (UFL, SI) from psi_ex. psi_ex takes
the ohmic-contact values V + V_T asinh(N / 2 n_i) at both ends (bias V on cu_sink, ground on
w_sink), so the contacts' weak (Nitsche) psi condition is exercised with non-zero data. The carrier
densities span 14 decades across the junction, where the space charge is of order q N_0.
(The neutral profile V_T asinh(N / 2 n_i) itself is no usable exact solution: it jumps by 0.8 V
within femtometres where |N| < n_i.) Expected L2 rates: P1 -> 2, P2 -> 3 (+-0.1).
"""

from __future__ import annotations

import math

import pytest

from conftest import box_domain, fit_rate
from ecx_device import geometry as geo
from ecx_device.coupling import CoupledProblem
from ecx_device.fem import ufl
from ecx_device.physics.base import Context, integrate
from ecx_device.physics.contacts import OhmicContact
from ecx_device.physics.poisson import Poisson
from ecx_device.physics.semiconductor_scaling import SemiconductorParameters
from ecx_device.units import ELEMENTARY_CHARGE, MESH_UNIT

L_NM = 200.0
N0, WIDTH, NI = 1.0e23, 40e-9, 1.0e16  # m^-3, m, m^-3 (silicon-like, 1e17 cm^-3)
BIAS, AMPLITUDE = 0.3, 0.05  # V


class ScaledSource:
    """Test-only module adding the manufactured charge -int f v dV to Poisson's scaled equation."""

    name = "mms"
    unknowns = ()

    def __init__(self, source, poisson: Poisson):
        self.source, self.poisson = source, poisson

    def residual(self, ctx, u, v):
        d = ctx.domain
        return {"psi": -self.poisson.scaling.poisson_factor(d) * d.volume(self.source * v["psi"])}


def _solve(n: int, degree: int) -> float:
    """Relative L2 error of psi on n cells."""
    d = box_domain(n, "1d", L_NM)
    ctx = Context.create(d, {}, bias=BIAS)
    L = L_NM * MESH_UNIT
    x = d.position()[0]
    par = SemiconductorParameters(eps_r=11.7, mu_n=0.14, mu_p=0.045, tau_n=1e-7, tau_p=1e-7,
                                  donors=lambda y: N0 * ufl.tanh((y[0] - L / 2) / WIDTH),
                                  n_i=NI, reference_density=N0)
    vt = par.thermal_voltage
    phi = ctx.constants["bias"] * (1 - x / L)
    poisson = Poisson(par, frozen_phi_n=phi, frozen_phi_p=phi)
    net = par.net_doping(d.position())
    # built-in step: the neutral value V_T asinh(N / 2 n_i) at both ends, smooth in between
    edge = vt * math.asinh(N0 * math.tanh(L / (2 * WIDTH)) / (2 * NI))
    step = edge * ufl.tanh((x - L / 2) / WIDTH) / math.tanh(L / (2 * WIDTH))
    psi_ex = step + BIAS * (1 - x / L) + AMPLITUDE * ufl.sin(math.pi * x / L)
    n_ex = NI * ufl.exp((psi_ex - phi) / vt)
    p_ex = NI * ufl.exp((phi - psi_ex) / vt)
    eps = par.permittivity
    f = -ufl.div(eps * d.grad(psi_ex)) / MESH_UNIT - ELEMENTARY_CHARGE * (p_ex - n_ex + net)
    modules = [poisson, OhmicContact(par, geo.Facet.CU_SINK), OhmicContact(par, geo.Facet.W_SINK),
               ScaledSource(f, poisson)]
    prob = CoupledProblem(ctx, modules, degree=degree, petsc_options={"snes_rtol": 0.0})
    res = prob.solve()
    assert res.converged, res
    psi = ctx.fields["psi"]
    comm = d.mesh.comm
    err = integrate(d.volume((psi - psi_ex) ** 2), comm) ** 0.5
    return err / integrate(d.volume(psi_ex**2), comm) ** 0.5


@pytest.mark.parametrize("degree", [1, 2])
def test_poisson_boltzmann_rates(degree):
    ns = [40, 80, 160]
    errors = [_solve(n, degree) for n in ns]
    rate = fit_rate([1.0 / n for n in ns], errors)
    print(f"Poisson MMS P{degree}: errors {errors}, rate {rate:.3f}")
    assert abs(rate - (degree + 1)) < 0.1
