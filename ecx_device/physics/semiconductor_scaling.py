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
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ecx_device.fem import dolfinx, ufl
from ecx_device.mesh import Domain
from ecx_device.units import BOLTZMANN, ELEMENTARY_CHARGE, ureg

#: Vacuum permittivity (F/m), from the same CODATA set as the other constants.
VACUUM_PERMITTIVITY = ureg.Quantity(1, "vacuum_permittivity").to("F/m").magnitude

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
        temperature: Lattice temperature (K).
        n_i: Intrinsic density (m^-3); if None it follows from N_c, N_v and E_g.
        N_c: Effective density of states of the conduction band (m^-3); needed by Schottky
            contacts.
        N_v: Effective density of states of the valence band (m^-3).
        E_g: Band gap (eV).
        richardson_n: Effective Richardson constant for electrons A_n* (A/(m^2 K^2)).
        richardson_p: Effective Richardson constant for holes A_p* (A/(m^2 K^2)).
        trap_level: SRH trap level above the intrinsic level, E_t - E_i (eV).
        reference_density: Density scale C_0 (m^-3); default the larger numeric doping.
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

    def valence_offset(self) -> float:
        """(E_i - E_v)/q = V_T ln(N_v / n_i) (V)."""
        return self.thermal_voltage * math.log(self.require("N_v") / self.intrinsic_density)

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

    @property
    def current_density(self) -> float:
        """J_0 = q mu_0 C_0 V_T / L_0 (A/m^2)."""
        return ELEMENTARY_CHARGE * self.mobility * self.density * self.thermal_voltage / self.length

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


class CarrierStatistics:
    """Scaled densities n/C_0, p/C_0 and the SRH rate as UFL expressions of the potentials.

    Args:
        params: Semiconductor data.
        scaling: The scaling of the same semiconductor.
    """

    def __init__(self, params: SemiconductorParameters, scaling: SemiconductorScaling):
        self.params, self.scaling = params, scaling
        self.vt = scaling.thermal_voltage
        # ln(n_i / C_0) enters the exponent instead of multiplying a tiny n_i / C_0 (CdS: 1e-19)
        self.log_ni = math.log(params.intrinsic_density / scaling.density)

    def n(self, psi, phi_n):
        """n / C_0 (-)."""
        return ufl.exp((psi - phi_n) / self.vt + self.log_ni)

    def p(self, psi, phi_p):
        """p / C_0 (-)."""
        return ufl.exp((phi_p - psi) / self.vt + self.log_ni)

    def srh(self, psi, phi_n, phi_p):
        """SRH net recombination rate R / C_0 (1/s), positive for recombination.

        R = (n p - n_i^2) / (tau_p (n + n_1) + tau_n (p + p_1)), n_1 = n_i exp(E_t/kT),
        p_1 = n_i exp(-E_t/kT), with n p - n_i^2 = n_i^2 (exp((phi_p - phi_n)/V_T) - 1).
        """
        pr = self.params
        ni = math.exp(self.log_ni)
        et = pr.trap_level / self.vt  # eV / V = dimensionless ratio in units of kT
        n1, p1 = ni * math.exp(et), ni * math.exp(-et)
        excess = ni * ni * (ufl.exp((phi_p - phi_n) / self.vt) - 1.0)
        denominator = (pr.tau_p * (self.n(psi, phi_n) + n1)
                       + pr.tau_n * (self.p(psi, phi_p) + p1))
        return excess / denominator

    def neutral_potential(self, x):
        """Charge-neutral equilibrium potential V_T asinh((N_D - N_A) / (2 n_i)) (V) (UFL)."""
        return self.vt * _asinh(self.params.net_doping(x) / (2.0 * self.params.intrinsic_density))


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
    return 2 * u.function_space.ufl_element().embedded_superdegree + 2


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
