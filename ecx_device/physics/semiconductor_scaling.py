"""Semiconductor parameters, carrier statistics and the one place where the scaling lives.

Carrier statistics (Boltzmann), with the electrostatic potential psi [V] referred to the intrinsic
level (E_i = -q psi) and the quasi-Fermi potentials phi_n, phi_p [V] (E_Fn = -q phi_n):

    n = n_i exp((psi - phi_n) / V_T),   p = n_i exp((phi_p - psi) / V_T),   V_T = k_B T / q,
    n_i = sqrt(N_c N_v) exp(-E_g / (2 k_B T))   (unless n_i is given),
    E_c - E_i = k_B T ln(N_c / n_i),   E_i - E_v = k_B T ln(N_v / n_i).

Both densities are exponentials of potentials, so they stay positive for any iterate and span any
number of decades; n p = n_i^2 exp((phi_p - phi_n) / V_T) is formed from the potential difference
so that SRH recombination has no cancellation near equilibrium.

Scaling. The unknowns stay in volts (the contacts fix them to the ``bias`` Constant, which is in
volts); what is scaled is every equation, so that each block of the Newton system is O(1) and the
exponent of every density is a potential in units of V_T:

    potential   V_T = k_B T / q                               [V]
    density     C_0 = reference density (default max(N_D, N_A))  [m^-3]
    length      L_0 = sqrt(eps V_T / (q C_0))  (Debye length of C_0)   [m]
    mobility    mu_0 = max(mu_n, mu_p)                           [m^2/(V s)]
    rate        R_0 = mu_0 C_0 V_T / L_0^2                       [m^-3 s^-1]
    current     J_0 = q mu_0 C_0 V_T / L_0                       [A/m^2]
    volume      Omega_0 = the measure of a cell of side L_0 in the domain's representation
                (L_0^3 in 3D and axisymmetric form, A L_0 in 1D, L_0^2 per metre in planar form)

The Poisson residual [C] is multiplied by 1 / (q C_0 Omega_0) and the continuity residuals [A] by
1 / (q R_0 Omega_0). With x = L_0 x^, psi = V_T psi^, n = C_0 n^ the scaled equations read

    -div^ grad^ psi^ = p^ - n^ + N^,    -div^(mu^_n n^ grad^ phi^_n) = R^,   ...

A module that adds a term to one of these equations (an ionic charge in Poisson, a generation
rate in continuity) must multiply its SI residual by the same factor: use
:meth:`SemiconductorScaling.poisson_factor` and :meth:`SemiconductorScaling.continuity_factor`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ecx_device.fem import dolfinx, ufl
from ecx_device.materials.properties import MIXING_RULES, PROPERTY_UNITS, UflOps, mix
from ecx_device.mesh import Domain
from ecx_device.physics.base import residual_quadrature_degree
from ecx_device.units import BOLTZMANN, ELEMENTARY_CHARGE, VACUUM_PERMITTIVITY


#: A doping profile (m^-3): a number, a UFL expression on the mesh, or a function of the SI
#: position vector (UFL) returning one, e.g. ``lambda x: ufl.conditional(x[0] < 5e-7, 1e23, 0.)``.
Doping = float | ufl.core.expr.Expr | Callable[[Any], Any]


def _asinh(x):
    """asinh for UFL, written so that large negative arguments do not cancel."""
    return ufl.sign(x) * ufl.ln(abs(x) + ufl.sqrt(x * x + 1.0))


@dataclass(frozen=True)
class SemiconductorParameters:
    """Material and device data of one semiconductor region, SI units (energies in eV).

    Attributes:
        eps_r: Relative static permittivity (-).
        mu_n: Electron mobility (m^2/(V s)).
        mu_p: Hole mobility (m^2/(V s)).
        tau_n: SRH electron lifetime (s).
        tau_p: SRH hole lifetime (s).
        donors: Ionised donor density N_D (m^-3): number, UFL expression, or function of the
            SI position (m) returning a UFL expression.
        acceptors: Ionised acceptor density N_A (m^-3), same forms as ``donors``.
        temperature: Lattice temperature (K); with ``lattice_temperature`` the reference
            temperature T_0 of the scaling and of the potential.
        n_i: Intrinsic density (m^-3); if None it follows from N_c, N_v and E_g.
        N_c: Effective density of states of the conduction band (m^-3); needed by Schottky
            contacts.
        N_v: Effective density of states of the valence band (m^-3).
        E_g: Band gap (eV).
        richardson_n: Effective Richardson constant for electrons A_n* (A/(m^2 K^2)).
        richardson_p: Effective Richardson constant for holes A_p* (A/(m^2 K^2)).
        trap_level: SRH trap level above the intrinsic level, E_t - E_i (eV).
        reference_density: Density scale C_0 (m^-3); default the larger numeric doping.
        electron_affinity: chi (eV); needed only with a heterostructure.
        heterostructure: A second phase mixed in by a fraction field X (see
            :class:`Heterostructure`); these parameters are then the X = 0 phase and set the
            scaling and the potential reference.
        statistics: ``boltzmann``, ``fermi_dirac`` (Bednarczyk's all-range F_1/2) or
            ``blakemore`` (Blakemore's F_1/2, densities below 3.7 N_c,v), see
            :class:`CarrierStatistics`.
        lattice_temperature: Local lattice temperature (K) as a UFL expression (e.g. the
            temperature Function of a coupled heat solve); None: ``temperature`` everywhere.
            When set, ``temperature`` is only the reference of the scaling and of the potential
            (see :class:`CarrierStatistics`), and N_c, N_v, E_g must be given.
        temperature_laws: Parameter name (``N_c``, ``mu_n``, ``E_g``, ...) -> function of the
            temperature (K, UFL) giving its local value in the units above; used only with
            ``lattice_temperature``. Parameters without a law keep their number.
    """

    eps_r: float
    mu_n: float
    mu_p: float
    tau_n: float
    tau_p: float
    donors: Doping = 0.0
    acceptors: Doping = 0.0
    temperature: float = 300.0
    n_i: float | None = None
    N_c: float | None = None
    N_v: float | None = None
    E_g: float | None = None
    richardson_n: float | None = None
    richardson_p: float | None = None
    trap_level: float = 0.0
    reference_density: float | None = None
    electron_affinity: float | None = None
    heterostructure: Heterostructure | None = None
    statistics: str = "boltzmann"
    lattice_temperature: Any = None
    temperature_laws: Mapping[str, Callable[[Any], Any]] | None = None

    @property
    def thermal_voltage(self) -> float:
        """k_B T / q (V)."""
        return BOLTZMANN * self.temperature / ELEMENTARY_CHARGE

    @property
    def permittivity(self) -> float:
        """Absolute permittivity (F/m)."""
        return self.eps_r * VACUUM_PERMITTIVITY

    @property
    def intrinsic_density(self) -> float:
        """n_i (m^-3), given or from N_c, N_v, E_g."""
        if self.n_i is not None:
            return float(self.n_i)
        if None in (self.N_c, self.N_v, self.E_g):
            raise ValueError("give n_i, or N_c, N_v and E_g")
        return math.sqrt(self.N_c * self.N_v) * math.exp(-self.E_g / (2 * self.thermal_voltage))

    def require(self, name: str) -> float:
        """The named optional parameter, or a ValueError saying it is needed."""
        value = getattr(self, name)
        if value is None:
            raise ValueError(f"SemiconductorParameters.{name} is needed here but was not given")
        return float(value)

    def conduction_offset(self) -> float:
        """(E_c - E_i)/q = V_T ln(N_c / n_i) (V)."""
        return self.thermal_voltage * math.log(self.require("N_c") / self.intrinsic_density)

    def doping(self, x) -> tuple:
        """(N_D, N_A) as UFL expressions of the SI position ``x`` (m^-3)."""
        def ev(d):
            if isinstance(d, ufl.core.expr.Expr):
                return d
            return d(x) if callable(d) else ufl.as_ufl(float(d))
        return ev(self.donors), ev(self.acceptors)

    def net_doping(self, x):
        """N_D - N_A (m^-3) at the SI position ``x`` (UFL)."""
        nd, na = self.doping(x)
        return nd - na


@dataclass(frozen=True)
class SemiconductorScaling:
    """Reference quantities of the scaled drift-diffusion system (see the module docstring).

    Attributes:
        thermal_voltage: V_T (V).
        density: C_0 (m^-3).
        length: L_0, the Debye length of C_0 (m).
        mobility: mu_0 (m^2/(V s)).
    """

    thermal_voltage: float
    density: float
    length: float
    mobility: float

    @classmethod
    def from_parameters(cls, params: SemiconductorParameters) -> SemiconductorScaling:
        """The scaling every module of one semiconductor derives from the same parameters."""
        c0 = params.reference_density
        if c0 is None:
            numeric = [abs(float(d)) for d in (params.donors, params.acceptors)
                       if isinstance(d, int | float)]
            c0 = max(numeric + [0.0])
            if c0 == 0.0:
                raise ValueError("doping given as functions: set reference_density (m^-3)")
        vt = params.thermal_voltage
        length = math.sqrt(params.permittivity * vt / (ELEMENTARY_CHARGE * c0))
        return cls(vt, float(c0), length, max(params.mu_n, params.mu_p))

    @property
    def rate(self) -> float:
        """R_0 = mu_0 C_0 V_T / L_0^2 (m^-3 s^-1)."""
        return self.mobility * self.density * self.thermal_voltage / self.length**2

    def reference_volume(self, domain: Domain) -> float:
        """Omega_0: measure of a cell of side L_0 as the domain weighs volumes (m^3, or m^2 per
        metre of depth in planar form)."""
        L0 = self.length
        return {"1d": domain.wire_area * L0, "planar": L0**2}.get(domain.dimension, L0**3)

    def poisson_factor(self, domain: Domain) -> float:
        """Factor (1/C) that turns a Poisson residual in coulombs into the scaled one."""
        return 1.0 / (ELEMENTARY_CHARGE * self.density * self.reference_volume(domain))

    def continuity_factor(self, domain: Domain) -> float:
        """Factor (1/A) that turns a continuity residual in amperes into the scaled one."""
        return 1.0 / (ELEMENTARY_CHARGE * self.rate * self.reference_volume(domain))


#: Largest |phi - psi| of a Newton iterate, in V_T (21.5 V at 500 K; a physical quasi-Fermi
#: potential stays within a band gap plus the bias of psi): beyond it a density is below
#: exp(-500) ~ 1e-217 of its band's, zero for any physics but not yet the exact 0 of an underflow,
#: which leaves a zero row in the Jacobian (:func:`quasi_fermi_iterate_range`).
QUASI_FERMI_SPAN = 500.0


def quasi_fermi_iterate_range(scaling: SemiconductorScaling, fields: dict) -> dict:
    """Where a Newton iterate of phi_n or phi_p may go (V, arrays over the owned dofs; the
    ``iterate_range`` hook of the carrier modules): psi -/+ QUASI_FERMI_SPAN V_T at the
    reference temperature, psi the iterate's values (``fields["psi"]``, the space of phi_n and
    phi_p)."""
    psi = fields["psi"]
    values = psi.x.array[: psi.function_space.dofmap.index_map.size_local]
    span = QUASI_FERMI_SPAN * scaling.thermal_voltage
    return dict.fromkeys(("phi_n", "phi_p"), (values - span, values + span))


#: Reference density of Newton's update test, relative to the scaling density C_0: a
#: quasi-Fermi potential's update counts with the weight n / (n + NEGLIGIBLE_DENSITY C_0)
#: (:func:`update_weights`). The idea is that of the reference density of commercial TCAD update
#: tests (Sentaurus Device's ErrRef): a relative density change is judged only where the density
#: is not negligible. Relative to C_0, not absolute: an absolute 1e16 m^-3 (ErrRef's default)
#: stopped Newton too early in the lightly doped heterojunction test, which then diverged at
#: -0.37 V (tests/verification/test_heterojunction.py); 1e-12 C_0 passes every verification test.
NEGLIGIBLE_DENSITY = 1e-12
_LOG_NEGLIGIBLE = math.log(NEGLIGIBLE_DENSITY)


def update_weights(stats: CarrierStatistics, fields: dict) -> dict:
    """Weights (-, UFL, in (0, 1)) of the Newton updates of phi_n and phi_p in the convergence
    test (the ``update_weights`` hook of the carrier modules): n / (n + NEGLIGIBLE_DENSITY C_0)
    and the same for p, formed from the log densities so that none overflows.

    Where a density is negligible its quasi-Fermi potential barely enters the residual, and its
    Newton updates are not those of a converging iteration: the hole quasi-Fermi potential at a
    node with p = 1e-20 C_0 moved by 1e-6 V back and forth (electrical problem), or fell by a
    factor 0.76 per iteration from 1e-5 V (ion step), while every residual sat at round-off (Li
    anode, 2 V, 500 K), and no unweighted update test passed within 40 iterations."""
    psi, phi_n, phi_p = fields["psi"], fields["phi_n"], fields["phi_p"]

    def weight(log_density):  # 1 / (1 + ref/density), the exponent clipped below overflow
        return 1.0 / (1.0 + ufl.exp(ufl.min_value(_LOG_NEGLIGIBLE - log_density, 700.0)))

    return {"phi_n": weight(stats.log_n(psi, phi_n)), "phi_p": weight(stats.log_p(psi, phi_p))}


def update_weight_values(log_density: np.ndarray) -> np.ndarray:
    """The weight of :func:`update_weights` (-) from nodal values of ln(density / C_0) (-), for
    a module that already holds them."""
    return 1.0 / (1.0 + np.exp(np.minimum(_LOG_NEGLIGIBLE - log_density, 700.0)))


class QuasiFermiNewtonHooks:
    """The Newton hooks of a carrier module with ``stats`` and ``scaling``:
    :func:`update_weights` and :func:`quasi_fermi_iterate_range` (read by
    :class:`ecx_device.solvers.newton.CoupledProblem`)."""

    stats: CarrierStatistics
    scaling: SemiconductorScaling

    def update_weights(self, ctx) -> dict:
        """Weights of the phi_n, phi_p updates in Newton's update test (-, UFL)."""
        return update_weights(self.stats, ctx.fields)

    def iterate_range(self, ctx) -> dict:
        """Where Newton iterates of phi_n, phi_p may go (V, arrays over the owned dofs)."""
        return quasi_fermi_iterate_range(self.scaling, ctx.fields)


def exponential(x):
    """exp of a number (a float, so homogeneous data stay numbers) or of a UFL expression."""
    return math.exp(x) if isinstance(x, int | float) else ufl.exp(x)


def logarithm(x):
    """ln of a number or of a UFL expression."""
    return math.log(x) if isinstance(x, int | float) else ufl.ln(x)


#: Carrier statistics of the drift-diffusion model (``SemiconductorParameters.statistics``).
STATISTICS = ("boltzmann", "fermi_dirac", "blakemore")

#: Blakemore's constant: F_1/2(eta) ~ 1 / (exp(-eta) + BLAKEMORE), good to a few % for eta < ~1.3,
#: saturating at 1/0.27 for eta -> inf.
BLAKEMORE = 0.27

#: 3 sqrt(pi) / 4, the constant of the Bednarczyk form (F_1/2 -> eta^1.5 / BEDNARCZYK, eta -> inf).
BEDNARCZYK = 0.75 * math.sqrt(math.pi)

#: Newton steps that refine Nilsson's inverse of F_1/2 (:func:`inverse_log_fermi_half`).
INVERSE_NEWTON_STEPS = 3


def _bednarczyk_nu(eta):
    """nu(eta) = eta^4 + 50 + 33.6 eta (1 - 0.68 exp(-0.17 (eta + 1)^2)) (>= 36.9 for real eta)."""
    return eta**4 + 50.0 + 33.6 * eta * (1.0 - 0.68 * exponential(-0.17 * (eta + 1.0) ** 2))


def _bednarczyk_dnu(eta):
    """d nu / d eta."""
    g = exponential(-0.17 * (eta + 1.0) ** 2)
    return 4.0 * eta**3 + 33.6 * (1.0 - 0.68 * g) + 33.6 * 0.68 * 0.34 * eta * (eta + 1.0) * g


def fermi_weight(eta):
    """g(eta) of F_1/2(eta) = e^eta / (1 + g(eta) e^eta) (number or UFL).

    Bednarczyk & Bednarczyk, Phys. Lett. A 64, 409 (1978): F_1/2(eta) = 1 / (e^-eta +
    (3 sqrt(pi)/4) nu^(-3/8)), so g = (3 sqrt(pi)/4) nu(eta)^(-3/8); all eta, relative error
    0.38 % at most (measured against numerical integration for eta in [-10, 30], at eta = 3.5).
    """
    return BEDNARCZYK * _bednarczyk_nu(eta) ** (-0.375)


def fermi_half(eta):
    """F_1/2(eta), normalised so that F -> e^eta for eta -> -inf (Bednarczyk form; number or
    UFL), written as e^eta / (1 + g e^eta) so that nothing overflows for eta -> -inf."""
    e = exponential(eta)
    return e / (1.0 + fermi_weight(eta) * e)


def log_fermi_half(eta):
    """ln F_1/2(eta) = eta - ln(1 + g(eta) e^eta) (Bednarczyk form; number or UFL)."""
    return eta - logarithm(1.0 + fermi_weight(eta) * exponential(eta))


def _dlog_fermi_half(eta):
    """d ln F_1/2 / d eta = (1 - g' e^eta) / (1 + g e^eta) with g' = -3/8 g nu'/nu; positive
    (>= 0.005 for eta <= 300), so the Newton steps of :func:`inverse_log_fermi_half` are defined."""
    nu = _bednarczyk_nu(eta)
    g = BEDNARCZYK * nu ** (-0.375)
    dg = -0.375 * g * _bednarczyk_dnu(eta) / nu
    e = exponential(eta)
    return (1.0 - dg * e) / (1.0 + g * e)


def inverse_log_fermi_half(log_u, steps: int = INVERSE_NEWTON_STEPS):
    """eta with F_1/2(eta) = u for the Bednarczyk F_1/2, given ln u (number or UFL).

    Start: Nilsson, Phys. Status Solidi A 19, K75 (1973), eta_0 = ln u / (1 - u^2) +
    v / (1 + (0.24 + 1.08 v)^-2), v = (3 sqrt(pi) u / 4)^(2/3) (its first term, 0/0 at u = 1,
    is replaced by -1/2 - ln(u)/2 for |ln u| < 1e-4). Then ``steps`` unrolled Newton steps on
    ln F_1/2(eta) - ln u (the same root as F - u, but scaled alike for u = 1e-40 and 1e3).
    The start is within 5.5e-3 in ln F of the root over ln u in [-150, 6]; after 1, 2, 3 steps
    7.7e-6, 1.5e-11 and 6e-15 (round-off).
    """
    near_one = -0.5 - 0.5 * log_u  # ln u / (1 - u^2) to O(ln(u)^2) next to u = 1
    if isinstance(log_u, int | float):
        first = near_one if abs(log_u) < 1e-4 else log_u / (1.0 - math.exp(2.0 * log_u))
    else:
        first = ufl.conditional(ufl.lt(abs(log_u), 1e-4), near_one,
                                log_u / (1.0 - ufl.exp(2.0 * log_u)))
    v = exponential((2.0 / 3.0) * (log_u + math.log(BEDNARCZYK)))
    eta = first + v / (1.0 + (0.24 + 1.08 * v) ** -2)
    for _ in range(steps):
        eta = eta - (log_fermi_half(eta) - log_u) / _dlog_fermi_half(eta)
    return eta


#: Parameter attribute -> material property whose mixing rule (``MIXING_RULES`` of
#: materials/properties.py) it follows in a heterostructure, so the wire mixes as the database says;
#: also the property whose temperature model gives the parameter's temperature law.
MIXED_AS = {"eps_r": "relative_permittivity", "mu_n": "electron_mobility",
             "mu_p": "hole_mobility", "tau_n": "carrier_lifetime", "tau_p": "carrier_lifetime",
             "N_c": "conduction_band_dos", "N_v": "valence_band_dos", "E_g": "band_gap",
             "electron_affinity": "electron_affinity",
             "richardson_n": "richardson_constant_electrons",
             "richardson_p": "richardson_constant_holes"}

#: Material properties in eV, which SemiconductorParameters holds in eV (the database in joules).
ENERGY_PROPERTIES = tuple(p for p, unit in PROPERTY_UNITS.items() if unit == "eV")


@dataclass(frozen=True)
class Heterostructure:
    """The X = 1 phase of a two-phase semiconductor and the fraction field X in [0, 1].

    Attributes:
        exchanged: Parameters of the X = 1 phase (same temperature as the X = 0 phase; its
            ``reference_density`` and ``heterostructure`` are ignored).
        fraction: X (-) as a UFL expression, e.g. a P1 Function on the mesh.
    """

    exchanged: SemiconductorParameters
    fraction: Any


class CarrierStatistics:
    """Scaled densities n/C_0, p/C_0 and the SRH rate as UFL expressions of the potentials.

    Homogeneous material: n/C_0 = exp((psi - phi_n)/V_T + a_n), p/C_0 = exp((phi_p - psi)/V_T
    + a_p) with a_n = a_p = ln(n_i/C_0), numbers.

    Heterostructure (``params.heterostructure``) or a temperature field
    (``params.lattice_temperature``): psi stays referred to the intrinsic level of the X = 0
    phase at the reference temperature T_0 (subscript 0), so the vacuum level is
    E_vac = -q psi + chi_0 + c_0 everywhere, c_0 = k_B T_0 ln(N_c0/n_i0) a fixed energy, and
    E_c = E_vac - chi(x), E_v = E_c - E_g(x, T). Then, with the local V_T = k_B T(x)/q,

        a_n = ln(N_c(x, T)/C_0) - (c_0 - chi(x) + chi_0)/V_T,
        a_p = ln(N_v(x, T)/C_0) + (c_0 - chi(x) + chi_0 - E_g(x, T))/V_T,

    UFL expressions of X and T, which reduce to ln(n_i0/C_0) at X = 0, T = T_0 because
    n_i0^2 = N_c0 N_v0 exp(-E_g0/k_B T_0). The electron affinity does not depend on T, so a
    change of the gap with temperature moves the valence band edge. The densities keep the
    quasi-Fermi form with the local V_T, N_c, N_v, E_g; the currents stay -q mu n grad phi_n
    (no thermoelectric current: the Seebeck and Peltier terms of a non-isothermal
    drift-diffusion model are left out). The local intrinsic density is n_i(x) = C_0 exp((a_n +
    a_p)/2), i.e. n_i^2 = N_c N_v exp(-E_g/kT). Mixing (materials/properties.py MIXING_RULES):
    chi, E_g, eps, Richardson constants linear in X; N_c, N_v, mobilities, lifetimes
    log-linear; ionised doping linear, N_D(x) = (1-X) N_D0 + X N_D1 (likewise N_A): each
    exchanged cation site turns a CdS volume element with its native donors into Cu2S with its
    Cu-vacancy acceptors, so the dopant count follows the volume fraction (a log-linear rule
    cannot mix a density with a zero).

    Degenerate statistics (``params.statistics``): with eta_n = (E_Fn - E_c)/kT =
    (psi - phi_n)/V_T + a_n - ln(N_c/C_0) (likewise eta_p = (E_v - E_Fp)/kT) the density is
    N_c F_1/2(eta_n) with F_1/2(eta) = e^eta / (1 + g(eta) e^eta), i.e.
    n/C_0 = exp((psi - phi_n)/V_T + a_n) / (1 + g(eta_n) exp(eta_n)), likewise p; written so that
    nothing overflows for eta -> -inf (the Boltzmann limit, g e^eta -> 0).

    - ``fermi_dirac``: g = (3 sqrt(pi)/4) nu(eta)^(-3/8), the Bednarczyk form of F_1/2
      (:func:`fermi_weight`), valid for all eta (0.38 % at most), no density limit.
    - ``blakemore``: g = 0.27, Blakemore's F_1/2 ~ 1/(exp(-eta) + 0.27), good to a few % for
      eta < ~1.3; F saturates at 1/0.27, so densities above 3.7 N_c (N_v) cannot be represented
      (checked by ``wire_semiconductor.check_statistics``).

    SRH then uses n p - n_eq p_eq = n p (1 - exp((phi_n - phi_p)/V_T)), which vanishes in
    equilibrium for any statistics.

    Args:
        params: Semiconductor data.
        scaling: The scaling of the same semiconductor.
    """

    def __init__(self, params: SemiconductorParameters, scaling: SemiconductorScaling):
        self.params, self.scaling = params, scaling
        if params.statistics not in STATISTICS:
            raise ValueError(f"statistics = {params.statistics!r}: expected one of "
                             f"{', '.join(STATISTICS)}")
        #: Fermi-Dirac occupancy (``fermi_dirac`` or ``blakemore``) instead of Boltzmann's.
        self.degenerate = params.statistics != "boltzmann"
        #: Lattice temperature (K): the UFL field when one is given, else the number.
        self.T = (params.temperature if params.lattice_temperature is None
                  else params.lattice_temperature)
        self.thermal = params.lattice_temperature is not None
        #: Local thermal voltage k_B T / q (V): a number, or UFL with a temperature field.
        self.vt = BOLTZMANN * self.T / ELEMENTARY_CHARGE
        het = params.heterostructure
        if het is None and not self.thermal:
            # ln(n_i / C_0) enters the exponent instead of multiplying a tiny n_i / C_0 (CdS: 1e-19)
            self.a_n = self.a_p = math.log(params.intrinsic_density / scaling.density)
            return
        if self.thermal and params.n_i is not None:
            raise ValueError("with a lattice_temperature field give N_c, N_v and E_g, not n_i "
                             "(n_i then follows the local temperature)")
        if het is not None and het.exchanged.temperature != params.temperature:
            raise ValueError("both phases of a heterostructure need the same temperature")
        needed = ("N_c", "N_v", "E_g") + (("electron_affinity",) if het is not None else ())
        for name in needed:
            params.require(name)
            if het is not None:
                het.exchanged.require(name)
        # E_c + q psi = -(chi - chi_0) + c0 (eV), fixed at the reference temperature so that psi
        # stays an electrostatic potential when T varies (class docstring)
        c0 = params.conduction_offset()  # V_T0 ln(N_c0 / n_i0) at the reference temperature
        dchi = (self.local("electron_affinity") - params.electron_affinity
                if het is not None else 0.0)
        vt = self.vt
        self.a_n = self.log_dos("N_c") - (c0 - dchi) / vt
        self.a_p = self.log_dos("N_v") + (c0 - dchi - self.local("E_g")) / vt

    # -- local material data ---------------------------------------------------------------
    def _phase_value(self, phase: SemiconductorParameters, name: str):
        """Parameter ``name`` of one phase at the local temperature (number or UFL)."""
        laws = phase.temperature_laws or {}
        if self.thermal and name in laws:
            return laws[name](self.T)
        return phase.require(name)

    def local(self, name: str):
        """Parameter ``name`` of SemiconductorParameters at the local X and temperature (a number
        when homogeneous and isothermal, else UFL), mixed by the rule of its material property."""
        base = self._phase_value(self.params, name)
        het = self.params.heterostructure
        if het is None:
            return base
        return mix(base, self._phase_value(het.exchanged, name), het.fraction,
                   MIXING_RULES[MIXED_AS[name]], UflOps)

    def log_dos(self, name: str):
        """ln(N/C_0) of the local effective density of states ``N_c`` or ``N_v`` (-)."""
        C0 = self.scaling.density
        base = self._phase_value(self.params, name)
        het = self.params.heterostructure
        if het is None:
            return logarithm(base / C0)
        # log-linear mixing written in the logarithm: no exp/ln round trip
        return logarithm(base / C0) + het.fraction * logarithm(
            self._phase_value(het.exchanged, name) / base)

    @property
    def permittivity(self):
        """Local absolute permittivity (F/m)."""
        return self.local("eps_r") * VACUUM_PERMITTIVITY

    def doping(self, x) -> tuple:
        """Local ionised (N_D, N_A) (m^-3, UFL) at the SI position ``x``."""
        nd, na = self.params.doping(x)
        het = self.params.heterostructure
        if het is None:
            return nd, na
        nd1, na1 = het.exchanged.doping(x)
        X = het.fraction
        return (mix(nd, nd1, X, MIXING_RULES["donor_density"], UflOps),
                mix(na, na1, X, MIXING_RULES["acceptor_density"], UflOps))

    def net_doping(self, x):
        """Local N_D - N_A (m^-3, UFL)."""
        nd, na = self.doping(x)
        return nd - na

    def log_intrinsic(self):
        """ln(n_i/C_0) of the local intrinsic density (-)."""
        return 0.5 * (self.a_n + self.a_p)

    def conduction_band_edge(self, psi):
        """E_c (eV) with E_i0 = -q psi: -psi + V_T (ln(N_c/C_0) - a_n)."""
        return -psi + self.vt * (self.log_dos("N_c") - self.a_n)

    def valence_band_edge(self, psi):
        """E_v (eV): -psi - V_T (ln(N_v/C_0) - a_p)."""
        return -psi - self.vt * (self.log_dos("N_v") - self.a_p)

    # -- densities and rates ---------------------------------------------------------------
    def _weight(self, eta):
        """g(eta) in F_1/2 = e^eta / (1 + g e^eta), degenerate statistics (class docstring)."""
        return BLAKEMORE if self.params.statistics == "blakemore" else fermi_weight(eta)

    def _density(self, exponent, dos: str):
        """C_0-scaled density: exp(exponent) (Boltzmann), or exp(exponent) / (1 + g(eta) e^eta)
        = (DOS/C_0) F_1/2(eta) with eta = exponent - ln(DOS/C_0)."""
        if not self.degenerate:
            return ufl.exp(exponent)
        eta = exponent - self.log_dos(dos)
        return ufl.exp(exponent) / (1.0 + self._weight(eta) * ufl.exp(eta))

    def _log_density(self, exponent, dos: str):
        """ln of :meth:`_density` (-), formed without the exp/ln round trip (edge fluxes of
        :mod:`ecx_device.physics.carriers_fitted` take nodal log densities)."""
        if not self.degenerate:
            return exponent
        eta = exponent - self.log_dos(dos)
        return exponent - ufl.ln(1.0 + self._weight(eta) * ufl.exp(eta))

    def log_n(self, psi, phi_n):
        """ln(n / C_0) (-, UFL)."""
        return self._log_density((psi - phi_n) / self.vt + self.a_n, "N_c")

    def log_p(self, psi, phi_p):
        """ln(p / C_0) (-, UFL)."""
        return self._log_density((phi_p - psi) / self.vt + self.a_p, "N_v")

    def n(self, psi, phi_n):
        """n / C_0 (-)."""
        return self._density((psi - phi_n) / self.vt + self.a_n, "N_c")

    def p(self, psi, phi_p):
        """p / C_0 (-)."""
        return self._density((phi_p - psi) / self.vt + self.a_p, "N_v")

    def srh(self, psi, phi_n, phi_p):
        """SRH net recombination rate R / C_0 (1/s), positive for recombination.

        R = (n p - n_i^2) / (tau_p (n + n_1) + tau_n (p + p_1)), n_1 = n_i exp(E_t/kT),
        p_1 = n_i exp(-E_t/kT), with n p - n_i^2 = n_i^2 (exp((phi_p - phi_n)/V_T) - 1) and the
        local n_i and lifetimes; with degenerate statistics (``fermi_dirac``, ``blakemore``)
        n p - n_eq p_eq = n p (1 - exp((phi_n - phi_p)/V_T)) instead.
        """
        ni = exponential(self.log_intrinsic())
        et = self.params.trap_level / self.vt  # eV / V = dimensionless ratio in units of kT
        n1, p1 = ni * exponential(et), ni * exponential(-et)
        if self.degenerate:
            excess = (self.n(psi, phi_n) * self.p(psi, phi_p)
                      * (1.0 - ufl.exp((phi_n - phi_p) / self.vt)))
        else:
            excess = ni * ni * (ufl.exp((phi_p - phi_n) / self.vt) - 1.0)
        denominator = (self.local("tau_p") * (self.n(psi, phi_n) + n1)
                       + self.local("tau_n") * (self.p(psi, phi_p) + p1))
        return excess / denominator

    def neutral_potential(self, x):
        """Charge-neutral equilibrium potential (V, UFL) with phi_n = phi_p = 0.

        C_0 (e^(u + a_n) - e^(-u + a_p)) = N with u = psi/V_T is 2 n_i sinh(u + (a_n - a_p)/2)
        = N, so psi = V_T [asinh(N / (2 n_i)) - (a_n - a_p)/2]; homogeneous: V_T asinh(N/2n_i).

        Degenerate statistics: each carrier keeps the density of the Boltzmann solution, whose
        reduced Fermi level eta_B becomes the eta with F_1/2(eta) = exp(eta_B); psi moves by
        +V_T (eta - eta_B) for electrons and -V_T (eta - eta_B) for holes. Both shifts are
        applied: the minority carrier's is ~g exp(eta_minority), nil in these wide-gap materials,
        so the result is neutral up to the minority density times that shift.

        - ``blakemore``: 1/(exp(-eta) + 0.27) = exp(eta_B) gives eta = eta_B -
          ln(1 - 0.27 exp(eta_B)) in closed form (undefined beyond the Blakemore limit, see the
          class docstring).
        - ``fermi_dirac``: :func:`inverse_log_fermi_half` (Nilsson's closed-form inverse refined
          by unrolled Newton steps, ln F_1/2(eta) = eta_B to ~1e-14), any density.
        """
        scaled = (self.net_doping(x) / (2.0 * self.scaling.density)
                  * exponential(-self.log_intrinsic()))
        u = _asinh(scaled) - 0.5 * (self.a_n - self.a_p)
        if not self.degenerate:
            return self.vt * u
        eta_n = u + self.a_n - self.log_dos("N_c")
        eta_p = -u + self.a_p - self.log_dos("N_v")
        return self.vt * (u + self.degenerate_shift(eta_n) - self.degenerate_shift(eta_p))

    def degenerate_shift(self, eta_b):
        """eta - eta_B (-) where F_1/2(eta) = exp(eta_B) for the degenerate statistics (number or
        UFL): the reduced Fermi level that gives the Boltzmann density exp(eta_B) (x N_c,v)."""
        if self.params.statistics == "blakemore":
            return -logarithm(1.0 - BLAKEMORE * exponential(eta_b))
        return inverse_log_fermi_half(eta_b) - eta_b


def statistics_for(params: SemiconductorParameters) -> CarrierStatistics:
    """Statistics and scaling of ``params`` (every module derives the same ones)."""
    return CarrierStatistics(params, SemiconductorScaling.from_parameters(params))


def interpolate_expression(expr, V: dolfinx.fem.FunctionSpace):
    """Nodal values of a UFL expression in the space ``V`` (owned and ghost entries)."""
    f = dolfinx.fem.Function(V)
    # the unit Constant ties an expression without spatial dependence to V's mesh
    expr = expr * dolfinx.fem.Constant(V.mesh, 1.0)
    f.interpolate(dolfinx.fem.Expression(expr, V.element.interpolation_points))
    f.x.scatter_forward()
    return f.x.array.copy()


def quadrature_degree(u) -> int:
    """Quadrature degree of the semiconductor forms for the Lagrange degree of ``u``: 2 p + 2."""
    return residual_quadrature_degree(u.function_space.ufl_element().embedded_superdegree)


def with_quadrature(form, degree: int):
    """``form`` with every integral's quadrature degree fixed to ``degree``.

    UFL estimates a degree per integrand, and the estimate for the Jacobian of an exponential
    or a quotient (SRH) differs from the residual's (7 vs 14 for P1); the Jacobian is then not
    the derivative of the assembled residual and Newton converges only linearly at high
    injection. A fixed degree keeps the two consistent.
    """
    if not isinstance(form, ufl.Form):
        return form  # an integer 0 from an absent region
    return ufl.Form([itg.reconstruct(metadata={**itg.metadata(), "quadrature_degree": degree})
                     for itg in form.integrals()])
