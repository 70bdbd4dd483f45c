"""Image-force lowering and thermionic-field emission at a Schottky contact (model.md 3.4).

Both enter the electron emission flux as J_n . n = -q v_n exp(dPhi/kT) (n - n_B) with the psi
condition unchanged (contacts.py docstring): the lowering raises the emission velocity; the band
profile, pinned at Phi_B at the metal, does not move. In the thermionic-emission-diffusion theory
(Crowell & Sze) the current is J = J_TE / (1 + v_R/v_D), J_TE = q v_R n_B (exp(V/V_T) - 1), with
v_D set by the band profile alone. So, at one bias, with f = exp(dPhi/kT) and dPhi the lowering the
contact reports,

    J_lowered = f J_TE / (1 + f v_R/v_D),   v_R/v_D = J_TE/J_plain - 1 (from the plain run),

which the simulation must meet to 0.5 % (what is left: the small change of the electron profile
near the contact). Against the bare exp(dPhi/kT) the ratio falls short by (1 + v_R/v_D)/(1 +
f v_R/v_D), 5-6 % for these diodes (v_R/v_D ~ 0.05): asserted to 8 %.

Devices: the silicon Schottky diode of test_schottky.py (N_D = 1e16 cm^-3, Phi_B = 0.70 eV,
1 um, 1001 nodes) for the image force; for tunnelling the same silicon at N_D = 1e18 cm^-3
(E_00 = 5.4 meV, so a few meV of lowering; 200 nm, 1001 nodes).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from conftest import box_domain
from ecx_device.device.names import Facet
from ecx_device.solvers.newton import CoupledProblem
from ecx_device.physics.base import Context
from ecx_device.physics.carriers import DriftDiffusion
from ecx_device.physics.contacts import (
    OhmicContact,
    SchottkyContact,
    tfe_energies,
    tfe_lowering,
)
from ecx_device.physics.poisson import Poisson
from ecx_device.physics.semiconductor_scaling import SemiconductorParameters
from ecx_device.units import VACUUM_PERMITTIVITY
from ecx_device.solvers.continuation import continue_bias

BARRIER = 0.70  # eV
BIASES = (0.1, 0.2)  # V, forward


def _silicon(n_d: float) -> SemiconductorParameters:
    return SemiconductorParameters(eps_r=11.7, mu_n=0.14, mu_p=0.045, tau_n=1e-7, tau_p=1e-7,
                                   donors=n_d, N_c=2.8e25, N_v=1.04e25, E_g=1.12,
                                   richardson_n=1.12e6, richardson_p=0.32e6)


def _sweep(n_d: float, length_nm: float, **lowering) -> list[dict]:
    par = _silicon(n_d)
    d = box_domain(1000, "1d", length_nm)
    ctx = Context.create(d, {})
    modules = [Poisson(par), DriftDiffusion(par),
               SchottkyContact(par, Facet.CU_SINK, BARRIER, **lowering),
               OhmicContact(par, Facet.W_SINK)]
    prob = CoupledProblem(ctx, modules, degree=1, petsc_options={"snes_rtol": 0.0})
    assert prob.solve().converged
    rows = []
    for V in BIASES:
        continue_bias(prob, V, max_step=0.05, min_step=1e-3)
        rows.append(prob.quantities())
    return rows


@pytest.mark.parametrize("kind, n_d, length_nm", [("image_force", 1e22, 1000.0),
                                                  ("tunnelling", 1e24, 200.0)])
def test_current_ratio_is_exp_of_lowering(kind, n_d, length_nm):
    plain = _sweep(n_d, length_nm)
    lowered = _sweep(n_d, length_nm, **{kind: True})
    par = _silicon(n_d)
    vt, area = par.thermal_voltage, math.pi * (40e-9) ** 2 / 4  # box_domain: 40 nm wire
    for V, a, b in zip(BIASES, plain, lowered, strict=True):
        d_phi = b[f"cu_sink_{kind}_lowering [eV]"]
        f = math.exp(d_phi / vt)
        j_te = (par.richardson_n * par.temperature**2 * math.exp(-BARRIER / vt)
                * math.expm1(V / vt))
        j_plain = a["cathode_current [A]"] / area
        r = j_te / j_plain - 1  # v_R / v_D of this diode at this bias
        expect = f * j_te / (1 + f * r) * area
        ratio = b["cathode_current [A]"] / a["cathode_current [A]"]
        print(f"{kind} V={V}: dPhi = {d_phi * 1e3:.3f} meV, I ratio {ratio:.5f}, "
              f"exp(dPhi/kT) {f:.5f}, v_R/v_D {r:.4f}, TED {expect / a['cathode_current [A]']:.5f}")
        assert d_phi > 1e-3  # a few meV at least: the checks below are not 1 == 1
        assert 0 < r < 0.1
        assert b["cathode_current [A]"] == pytest.approx(expect, rel=0.005)
        assert ratio == pytest.approx(f, rel=0.08)
        assert b["current_mismatch [-]"] < 1e-8


def test_image_force_lowering_follows_the_contact_field():
    """dPhi_if = sqrt(q E_s / (4 pi eps)) with E_s the depletion field of the diode at the
    contact, E_s^2 = 2 q N_D (psi_s - V_T)/eps (psi_s = V_bi - V): within 1 % (the P1 gradient
    of the first 1 nm cell is the field ~0.5 nm inside, 0.2 % lower; measured 0.1 %)."""
    q, n_d = 1.602176634e-19, 1e22
    rows = _sweep(n_d, 1000.0, image_force=True)
    par = _silicon(n_d)
    vt, eps = par.thermal_voltage, par.permittivity
    for V, row in zip(BIASES, rows, strict=True):
        psi_s = BARRIER - vt * math.log(par.N_c / n_d) - V
        e_s = math.sqrt(2 * q * n_d / eps * (psi_s - vt))
        expect = math.sqrt(q * e_s / (4 * math.pi * eps))
        print(f"V={V}: dPhi_if {row['cu_sink_image_force_lowering [eV]']:.5f} eV, "
              f"depletion estimate {expect:.5f} eV")
        assert row["cu_sink_image_force_lowering [eV]"] == pytest.approx(expect, rel=0.01)


def test_tfe_formula_limits_and_monotone():
    """E_00 against the formula with CODATA constants and m* = 0.21 m_0 (CdS N_c = 2.41e18
    cm^-3 is 2.509e19 (0.21)^1.5 to 0.3 %); the lowering -> 0 at low doping, grows with N."""
    hbar, m0, kT = 1.054571817e-34, 9.1093837015e-31, 1.380649e-23 * 300.0
    eps = 8.9 * VACUUM_PERMITTIVITY
    e00, e0 = tfe_energies(5e23, eps, 2.41e24, 300.0)
    by_hand = hbar / 2 * math.sqrt(5e23 / (0.21 * m0 * eps))  # (q hbar/2) sqrt(N/(m eps)) / q
    assert e00 == pytest.approx(by_hand, rel=5e-3)
    x = e00 / (kT / 1.602176634e-19)
    assert e0 == pytest.approx(e00 / math.tanh(x), rel=1e-12)
    doping = np.logspace(20, 26, 13)
    low = [tfe_lowering(0.4, n, eps, 2.41e24, 300.0) for n in doping]
    print("TFE lowering (eV) at N = 1e20..1e26 m^-3:", " ".join(f"{v:.3g}" for v in low))
    assert low[0] < 1e-5  # factor exp(dPhi/kT) within 4e-4 of 1 at 1e14 cm^-3
    assert all(b > a for a, b in zip(low, low[1:]))
    assert low[-1] < 0.4  # never more than the band bending
