"""Peltier heat of the drift-diffusion wire (carriers.TransportEnergy, docs/model.md 5a.12).

1. Energy balance. With the transport-energy potentials zeta_n = -(E_c + 2 k_B T)/q and
   zeta_p = -(E_v - 2 k_B T)/q, the bulk heat plus the heat at the Schottky contact and at the
   ohmic (Dirichlet) contact equals the electrical power V I of the discrete solution, in forward
   and reverse bias, to round-off (<= 1e-9 relative), for a self-heated silicon Schottky diode
   and a germanium-like p-n diode with two ohmic contacts, with the Galerkin and with the fitted
   (edge-flux) carrier discretisation.
2. A single Schottky contact. Each electron that crosses the barrier carries E_c + 2 k_B T into
   the metal, whose Fermi level lies Phi_B below the band edge at the interface, so the contact
   releases I (Phi_B + 2 k_B T / q) in forward bias and absorbs as much in reverse bias
   (thermionic heating and cooling). The holes' share (N_D = 1e22 m^-3 silicon: p ~ 1e-12 n) is
   negligible.
"""

from __future__ import annotations

import pytest
from conftest import box_domain, constant_material
from test_barrier_lowering import _silicon
from test_self_heating import BARRIER, T0, _wire_temperature

from ecx_device.device.names import Facet, Region
from ecx_device.physics.base import Context, integrate
from ecx_device.physics.carriers import KINETIC_ENERGY, DriftDiffusion, TransportEnergy
from ecx_device.physics.carriers_fitted import FittedDriftDiffusion
from ecx_device.physics.contacts import OhmicContact, SchottkyContact
from ecx_device.physics.poisson import Poisson
from ecx_device.physics.semiconductor_scaling import SemiconductorParameters
from ecx_device.solvers.continuation import continue_bias
from ecx_device.solvers.fixed_point import SelfHeatingProblem
from ecx_device.solvers.newton import CoupledProblem
from ecx_device.units import BOLTZMANN, ELEMENTARY_CHARGE

SOLVER = {"snes_rtol": 0.0}
L_NM = 1000.0


def _modules(par, schottky: bool, fitted: bool = False) -> list:
    """Poisson, carriers with their transport energy (Galerkin or fitted edge fluxes), and the
    two contacts (Cu end Schottky or ohmic, W end ohmic)."""
    carriers = (FittedDriftDiffusion if fitted else DriftDiffusion)(par)
    energy = TransportEnergy(carriers.stats, {Facet.W_SINK: "ground"})
    carriers.energy = energy
    if schottky:
        cu = SchottkyContact(par, Facet.CU_SINK, BARRIER, energy=energy)
    else:
        cu = OhmicContact(par, Facet.CU_SINK)
        energy.strong_contacts[Facet.CU_SINK] = "bias"
    return [Poisson(par, lumped=fitted), carriers, cu, OhmicContact(par, Facet.W_SINK)]


def _self_heated(par_of_T, schottky: bool, n: int = 200, fitted: bool = False):
    device = box_domain(n, "1d", L_NM)
    wire, cells = device.restrict(Region.WIRE)
    ctx = Context.create(wire, {})
    ctx.fields["T"] = _wire_temperature(wire)
    carriers = CoupledProblem(ctx, _modules(par_of_T(ctx.fields["T"]), schottky, fitted),
                              degree=1, petsc_options=SOLVER)
    hctx = Context.create(device, {Region.WIRE: constant_material(thermal_conductivity=4.0)},
                          heat_sink_temperature=T0)
    return SelfHeatingProblem.create(carriers, hctx, cells, degree=1, tolerance=1e-9,
                                     max_iterations=100, petsc_options=SOLVER)


def _heated_silicon(T, doping: float = 1e22):
    import dataclasses

    return dataclasses.replace(_silicon(doping), lattice_temperature=T,
                               temperature_laws={})


def _pn(T):
    half = L_NM / 2 * 1e-9
    import ufl

    # a narrow gap and short lifetimes give a reverse (generation) current far above the
    # round-off resolution of the terminal currents, so the balance can be checked both ways; the
    # biased (Cu) end is the lightly doped n side, whose first cells conduct least (the biased
    # terminal's reaction flux is resolved to eps |V| times that conductance, DriftDiffusion)
    return SemiconductorParameters(
        eps_r=16.0, mu_n=0.39, mu_p=0.19, tau_n=1e-11, tau_p=1e-11,
        donors=lambda x: ufl.conditional(ufl.le(x[0], half), 1e22, 0.0),
        acceptors=lambda x: ufl.conditional(ufl.gt(x[0], half), 1e23, 0.0),
        N_c=1.04e25, N_v=6.0e24, E_g=0.56, reference_density=1e23,
        lattice_temperature=T, temperature_laws={})


@pytest.mark.parametrize("flux", ["galerkin", "eafe"])
@pytest.mark.parametrize("device", ["schottky", "pn"])
def test_energy_balance_with_peltier_heat(device, flux):
    fitted = flux == "eafe"
    problem = (_self_heated(_heated_silicon, True, fitted=fitted) if device == "schottky"
               else _self_heated(_pn, False, fitted=fitted))
    for V in ((0.3, -0.5) if device == "schottky" else (-0.3, 0.5)):  # forward, reverse
        continue_bias(problem, V, max_step=0.1, min_step=1e-4)
        q = problem.quantities()
        contacts = {k: v for k, v in q.items() if k.endswith("_contact_heat [W]")}
        print(f"\n{device} ({flux}) V = {V:+.2f} V: I = {q['current [A]']:.4e} A, bulk "
              f"{q['carrier_heat [W]']:.4e} W, contacts {contacts}, balance error "
              f"{q['power_balance_error [-]']:.2e}")
        assert set(contacts) == {"cu_sink_contact_heat [W]", "w_sink_contact_heat [W]"}
        assert q["power_balance_error [-]"] < 1e-9
        assert q["wire_heat_source [W]"] == pytest.approx(q["electrical_power [W]"], rel=1e-9,
                                                          abs=0.0)


def _schottky_diode(peltier: bool):
    """Isothermal 1 um silicon Schottky diode (Cu end), ohmic W end."""
    d = box_domain(400, "1d", L_NM)
    ctx = Context.create(d, {})
    par = _silicon(1e22)
    modules = (_modules(par, True) if peltier else
               [Poisson(par), DriftDiffusion(par), SchottkyContact(par, Facet.CU_SINK, BARRIER),
                OhmicContact(par, Facet.W_SINK)])
    problem = CoupledProblem(ctx, modules, degree=1, petsc_options=SOLVER)
    assert problem.solve().converged
    return problem


def test_schottky_contact_peltier_heat_is_current_times_barrier_plus_2kT():
    """Q = I_n (Phi_B + 2 k_B T/q) - I_p (E_g - Phi_B + 2 k_B T/q): an electron entering the
    metal releases its height above the metal's Fermi level, an injected hole (an electron
    taken from E_v - 2 k_B T up to the Fermi level) absorbs E_g - Phi_B + 2 k_B T."""
    problem = _schottky_diode(peltier=True)
    ctx = problem.ctx
    contact = next(m for m in problem.modules if isinstance(m, SchottkyContact))
    kT = BOLTZMANN * T0 / ELEMENTARY_CHARGE  # V
    e_g = _silicon(1e22).E_g
    for V in (0.25, -0.3):
        continue_bias(problem, V, max_step=0.05, min_step=1e-4)
        q = problem.quantities()
        jn, jp = contact.emission_fluxes(ctx, ctx.fields)
        i_n, i_p = (-integrate(ctx.domain.surface(j, Facet.CU_SINK), ctx.domain.mesh.comm)
                    for j in (jn, jp))
        expected = (i_n * (BARRIER + KINETIC_ENERGY * kT)
                    - i_p * (e_g - BARRIER + KINETIC_ENERGY * kT))
        heat = q["cu_sink_contact_heat [W]"]
        print(f"\nV = {V:+.2f} V: I_n = {i_n:.4e} A, I_p = {i_p:.4e} A, contact heat "
              f"{heat:.6e} W, expected {expected:.6e} W, rel. diff {heat / expected - 1:.2e}")
        assert heat == pytest.approx(expected, rel=1e-4, abs=0.0)
        assert (heat > 0) == (V > 0)  # heats in forward bias, cools in reverse bias


def test_without_transport_energy_the_contact_heat_is_the_quasi_fermi_drop():
    """zeta = phi: the contact releases I (V - phi_n,s) >= 0 both ways, far less than the Peltier
    heat I (Phi_B + 2kT/q) in forward bias (the Joule heat of the old model)."""
    problem = _schottky_diode(peltier=False)
    continue_bias(problem, 0.25, max_step=0.05, min_step=1e-4)
    q = problem.quantities()
    assert 0 < q["cu_sink_contact_heat [W]"] < 0.5 * q["cu_sink_emission_current [A]"] * BARRIER
