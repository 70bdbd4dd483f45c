"""Degenerate carrier statistics (model.md 5a.11): ``fermi_dirac`` (Bednarczyk's all-range F_1/2)
and ``blakemore`` (F_1/2 ~ 1/(exp(-eta) + 0.27)).

- The Bednarczyk form against F_1/2(eta) = (2/sqrt(pi)) int_0^inf sqrt(x)/(1 + exp(x - eta)) dx
  integrated numerically (composite Gauss-Legendre in t = sqrt(x), converged to 1e-15) for eta in
  [-10, 30]: published accuracy 0.4 %, asserted 0.4 % (measured 0.379 % at eta = 3.48). Its
  inverse used for the neutral potential (Nilsson start + 3 Newton steps) gives
  ln F(eta) = ln u to 1e-13 for ln u in [-150, 8], as numbers and as UFL (measured 1.8e-15).
- Non-degenerate: the silicon Schottky diode of test_schottky.py (N_D = 1e16 cm^-3 against
  N_c = 2.8e19 cm^-3, eta = -7.9 in the bulk, lower in the depletion layer that sets the
  current): the occupancy differs from Boltzmann by at most ~g exp(eta) = 1e-4, so the currents
  must agree to 1e-3, for both options; they must also differ (by > 1e-9), or the option did
  nothing (measured +1.8e-8, +3.0e-8 at 0.1, 0.2 V for fermi_dirac; +8.6e-8, +1.5e-7 for
  blakemore).
- Degenerate, fermi_dirac: the database's p-Cu2S (N_A = 1e20 cm^-3 = 3.98 N_v, eta_p = 2.73) as a
  uniform resistor with ohmic contacts: at zero bias the hole density is N_A everywhere (contacts
  included) and N_v F(eta_p) = N_A with eta_p = (E_v - E_F)/kT from the band-diagram output, both
  to 1e-6 (measured 1e-15); E_F sits 70.46 meV below E_v (eta_p = 2.726) where Boltzmann
  statistics puts it at 35.74 meV. At 10 mV
  the current is q mu_p N_A A V / L to 1e-6 (degenerate statistics change neither the
  conductivity q mu_p p nor the ohmic contact, which keeps p = N_A), the same as Boltzmann's
  (both measured equal to it to 1e-15).
- Degenerate, blakemore: the same resistor with N_A lowered to 5e19 cm^-3 = 2.0 N_v, inside the
  Blakemore range 3.7 N_v: p = N_A and N_v / (exp(-eta_p) + 0.27) = N_A (1e-6); E_F 37.8 meV
  below E_v. Beyond the range (the database's 1e20 cm^-3) a blakemore run is refused with the
  case key named; fermi_dirac and boltzmann are not.
"""

from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np
import pytest
from mpi4py import MPI

from conftest import box_domain
from ecx_device.device.names import Facet, Region
from ecx_device.solvers.newton import CoupledProblem
from ecx_device.errors import CaseError
from ecx_device.fem import dolfinx
from ecx_device.materials import load_material
from ecx_device.physics.base import Context
from ecx_device.physics.carriers import DriftDiffusion
from ecx_device.physics.contacts import OhmicContact, SchottkyContact
from ecx_device.physics.poisson import Poisson
from ecx_device.physics.semiconductor_scaling import (
    fermi_half,
    interpolate_expression,
    inverse_log_fermi_half,
    log_fermi_half,
    statistics_for,
)
from ecx_device.physics.wire_semiconductor import check_statistics, semiconductor_parameters
from ecx_device.solvers.continuation import continue_bias
from ecx_device.units import ELEMENTARY_CHARGE, MESH_UNIT
from test_barrier_lowering import BARRIER, _silicon

SOLVER = {"snes_rtol": 0.0}
#: Published accuracy of the Bednarczyk form (relative).
BEDNARCZYK_ACCURACY = 4e-3


def _fermi_half_numerical(eta: float, panels: int = 400, order: int = 20) -> float:
    """(2/sqrt(pi)) int_0^inf sqrt(x) / (1 + exp(x - eta)) dx with x = t^2, composite
    Gauss-Legendre on t in [0, sqrt(max(eta, 0) + 80)] (the tail beyond is < e^-80)."""
    nodes, weights = np.polynomial.legendre.leggauss(order)
    edges = np.linspace(0.0, math.sqrt(max(eta, 0.0) + 80.0), panels + 1)
    a, b = edges[:-1, None], edges[1:, None]
    t = 0.5 * (b - a) * nodes + 0.5 * (a + b)
    occupancy = np.exp(-np.logaddexp(0.0, t * t - eta))  # 1/(1 + e^(x - eta)) without overflow
    return float(2.0 / math.sqrt(math.pi) * np.sum(0.5 * (b - a) * weights * 2.0 * t * t
                                                      * occupancy))


def test_bednarczyk_against_numerical_integration():
    etas = np.linspace(-10.0, 30.0, 4001)
    # the quadrature itself is converged: doubling panels and order changes nothing
    for eta in (-10.0, 0.0, 3.5, 30.0):
        ref = _fermi_half_numerical(eta, panels=800, order=30)
        assert _fermi_half_numerical(eta) == pytest.approx(ref, rel=1e-13)
    exact = np.array([_fermi_half_numerical(e) for e in etas])
    approx = np.array([fermi_half(float(e)) for e in etas])
    rel = approx / exact - 1.0
    worst = int(np.argmax(abs(rel)))
    print(f"Bednarczyk F_1/2: max relative error {rel[worst]:+.4e} at eta = {etas[worst]:.2f}; "
          f"at eta = -10: {rel[0]:+.1e}, at eta = 30: {rel[-1]:+.1e}")
    assert abs(rel).max() < BEDNARCZYK_ACCURACY
    # the forms stay finite and positive far beyond the checked range (no overflow at -inf)
    assert fermi_half(-700.0) == pytest.approx(math.exp(-700.0), rel=1e-12)
    assert log_fermi_half(-2000.0) == pytest.approx(-2000.0, rel=1e-12)


def _ufl_values(expr_of, values: np.ndarray) -> np.ndarray:
    """expr_of(t) at the nodes of a P1 interval mesh on which t takes ``values`` (a UFL check)."""
    mesh = dolfinx.mesh.create_interval(MPI.COMM_WORLD, len(values) - 1,
                                        [0.0, 1.0])
    V = dolfinx.fem.functionspace(mesh, ("Lagrange", 1))
    t = dolfinx.fem.Function(V)
    x = V.tabulate_dof_coordinates()[:, 0]
    t.x.array[:] = np.interp(x, np.linspace(0.0, 1.0, len(values)), values)
    return t.x.array.copy(), interpolate_expression(expr_of(t), V)


def test_inverse_of_fermi_half():
    log_u = np.concatenate([np.linspace(-150.0, 8.0, 1581), [-1e-6, 0.0, 1e-6]])
    residual = [abs(log_fermi_half(inverse_log_fermi_half(float(x))) - x) for x in log_u]
    print(f"inverse: max |ln F(eta(u)) - ln u| = {max(residual):.1e} (numbers)")
    assert max(residual) < 1e-13
    nodes, eta = _ufl_values(inverse_log_fermi_half, log_u)
    ufl_residual = np.abs([log_fermi_half(float(e)) - x for e, x in zip(eta, nodes, strict=True)])
    print(f"inverse: max |ln F(eta(u)) - ln u| = {ufl_residual.max():.1e} (UFL)")
    assert np.all(np.isfinite(eta))
    assert ufl_residual.max() < 1e-13
    assert eta == pytest.approx([inverse_log_fermi_half(float(x)) for x in nodes], abs=1e-12)


@functools.cache
def _schottky_current(statistics: str, V: float) -> float:
    par = dataclasses.replace(_silicon(1e22), statistics=statistics)
    d = box_domain(1000, "1d", 1000.0)
    ctx = Context.create(d, {})
    modules = [Poisson(par), DriftDiffusion(par), SchottkyContact(par, Facet.CU_SINK, BARRIER),
               OhmicContact(par, Facet.W_SINK)]
    prob = CoupledProblem(ctx, modules, degree=1, petsc_options=SOLVER)
    assert prob.solve().converged
    continue_bias(prob, V, max_step=0.05, min_step=1e-3)
    return prob.quantities()["cathode_current [A]"]


@pytest.mark.parametrize("statistics", ["fermi_dirac", "blakemore"])
def test_non_degenerate_limit_is_boltzmann(statistics):
    for V in (0.1, 0.2):
        fd, bz = _schottky_current(statistics, V), _schottky_current("boltzmann", V)
        print(f"{statistics} V={V}: {fd:.6e} A, Boltzmann {bz:.6e} A, rel. diff {fd / bz - 1:+.2e}")
        assert fd == pytest.approx(bz, rel=1e-3)
        assert abs(fd / bz - 1) > 1e-9


def _cu2s_resistor(statistics: str, acceptors: float | None = None, bias: float = 0.0):
    """Uniform p-Cu2S (database data, optionally another N_A), 100 nm, 200 P1 cells, ohmic
    contacts; returns the parameters, nodal p and E_v - E_F (eV, E_F = 0 at zero bias), current."""
    cu2s = semiconductor_parameters(load_material("Cu2S"), 300.0)
    par = dataclasses.replace(cu2s, statistics=statistics,
                              acceptors=cu2s.acceptors if acceptors is None else acceptors)
    d = box_domain(200, "1d", 100.0)
    ctx = Context.create(d, {})
    poisson = Poisson(par)
    modules = [poisson, DriftDiffusion(par), OhmicContact(par, Facet.CU_SINK),
               OhmicContact(par, Facet.W_SINK)]
    prob = CoupledProblem(ctx, modules, degree=1, petsc_options=SOLVER)
    assert prob.solve().converged
    if bias:
        continue_bias(prob, bias, max_step=0.05, min_step=1e-3)
    V = ctx.fields["psi"].function_space
    p = interpolate_expression(
        poisson.derived_fields(ctx)["hole_density [m^-3]"][Region.WIRE], V)
    e_v = interpolate_expression(poisson.point_fields(ctx)["valence_band_edge [eV]"], V)
    return par, d, p, e_v, prob.quantities()["cathode_current [A]"]


def test_degenerate_cu2s_fermi_dirac_neutral_density():
    par, _, p, e_v, _ = _cu2s_resistor("fermi_dirac")
    n_a, vt = par.acceptors, par.thermal_voltage
    assert n_a == pytest.approx(1e26) and n_a / par.N_v > 3.7  # beyond the Blakemore limit
    mid = len(p) // 2
    eta_p = e_v[mid] / vt  # (E_v - E_F)/kT with E_F = 0
    fd = par.N_v * fermi_half(eta_p)
    boltzmann = vt * math.log(n_a / par.N_v)
    print(f"Cu2S N_A = {n_a / 1e6:.3g} cm^-3: p / N_A - 1 in [{p.min() / n_a - 1:+.1e}, "
          f"{p.max() / n_a - 1:+.1e}], "
          f"eta_p = {eta_p:.5f}, E_v - E_F = {e_v[mid] * 1e3:.3f} meV (Boltzmann "
          f"{boltzmann * 1e3:.3f} meV), N_v F(eta_p) / N_A - 1 = {fd / n_a - 1:+.1e}")
    assert p.min() == pytest.approx(n_a, rel=1e-6)  # contacts included (end nodes)
    assert p.max() == pytest.approx(n_a, rel=1e-6)
    assert fd == pytest.approx(n_a, rel=1e-6)
    assert e_v.min() == pytest.approx(e_v.max(), abs=1e-9)  # flat bands, contacts neutral
    assert 2.5 < eta_p < 3.0
    assert e_v[mid] - boltzmann > 0.03  # 35 meV deeper than Boltzmann


def test_degenerate_cu2s_fermi_dirac_resistor_current():
    bias = 0.01
    currents = {}
    for statistics in ("fermi_dirac", "boltzmann"):
        par, d, _, _, current = _cu2s_resistor(statistics, bias=bias)
        currents[statistics] = current
    exact = (ELEMENTARY_CHARGE * par.mu_p * par.acceptors * d.wire_area * bias
             / (100.0 * MESH_UNIT))
    print(f"Cu2S resistor at {bias} V: fermi_dirac {currents['fermi_dirac']:.9e} A, boltzmann "
          f"{currents['boltzmann']:.9e} A, q mu_p N_A A V / L = {exact:.9e} A "
          f"(rel. {currents['fermi_dirac'] / exact - 1:+.1e})")
    assert currents["fermi_dirac"] == pytest.approx(exact, rel=1e-6)
    assert currents["boltzmann"] == pytest.approx(exact, rel=1e-6)


def test_degenerate_cu2s_blakemore_neutral_density():
    n_a = 5e25  # m^-3 (5e19 cm^-3), inside the Blakemore range
    par, _, p, e_v, _ = _cu2s_resistor("blakemore", acceptors=n_a)
    vt = par.thermal_voltage
    mid = len(p) // 2
    eta_p = e_v[mid] / vt  # (E_v - E_F)/kT with E_F = 0
    blakemore = par.N_v / (math.exp(-eta_p) + 0.27)
    print(f"p = {p[mid]:.6e} m^-3, E_v - E_F = {e_v[mid] * 1e3:.3f} meV, "
          f"Blakemore N_v F(eta) = {blakemore:.6e}, Boltzmann E_v - E_F = "
          f"{vt * math.log(n_a / par.N_v) * 1e3:.3f} meV")
    assert p.min() == pytest.approx(n_a, rel=1e-6)
    assert p.max() == pytest.approx(n_a, rel=1e-6)
    assert blakemore == pytest.approx(n_a, rel=1e-6)
    assert e_v[mid] - vt * math.log(n_a / par.N_v) > 0.015  # 20 meV deeper than Boltzmann


def test_beyond_blakemore_range_is_refused():
    mat = load_material("Cu2S")
    par = dataclasses.replace(semiconductor_parameters(mat, 300.0), statistics="blakemore")
    with pytest.raises(CaseError, match=r"electrical.statistics = blakemore: Cu2S "
                                        r"acceptor_density 1e\+20 cm\^-3 exceeds"):
        check_statistics(par, mat)
    for other in ("boltzmann", "fermi_dirac"):  # no error
        check_statistics(dataclasses.replace(par, statistics=other), mat)


def test_unknown_statistics_is_refused():
    with pytest.raises(ValueError, match="expected one of boltzmann, fermi_dirac, blakemore"):
        statistics_for(dataclasses.replace(_silicon(1e22), statistics="fermi"))
