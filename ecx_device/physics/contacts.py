"""Metal contacts of a drift-diffusion semiconductor (model.md 3.4).

The metal of a contact sits at the potential V of a terminal (a context constant: ``bias`` on
``cu_sink``, ``ground`` on ``w_sink``); its Fermi level is E_F = -q V.

Ohmic contact (charge-neutral, thermal equilibrium at the contact):

    phi_n = phi_p = V,     psi = V + V_T asinh((N_D - N_A) / (2 n_i)).

Schottky contact with barrier Phi_B = E_c - E_F at the interface [eV] and thermionic emission:

    psi = V - Phi_B + V_T ln(N_c / n_i)                 (E_c pinned Phi_B above E_F),
    J_n . n = -q v_n (n - n_B),   n_B = N_c exp(-Phi_B / kT),   v_n = A_n* T^2 / (q N_c),
    J_p . n =  q v_p (p - p_B),   p_B = n_i^2 / n_B,            v_p = A_p* T^2 / (q N_v),

with n the outward normal of the semiconductor (so electrons leaving into the metal carry
J_n . n < 0); J [A/m^2], v [m/s], A* [A/(m^2 K^2)]. p_B equals N_v exp(-(E_g - Phi_B)/kT) when n_i
comes from N_c, N_v, E_g. With psi at its contact value the excess densities are
n - n_B = n_B (exp((V - phi_n)/V_T) - 1) and p - p_B = p_B (exp((phi_p - V)/V_T) - 1); the Robin
terms are assembled in that form (see :meth:`SchottkyContact.emission_fluxes`). For a uniform
n-type layer this gives the thermionic-emission law J = A* T^2 exp(-Phi_B/kT) (exp(V/V_T) - 1)
when drift-diffusion in the depletion layer is fast (Crowell-Sze: times 1/(1 + v_n/v_D)). No
image-force lowering or tunnelling yet.

The quasi-Fermi potentials of an ohmic contact are strong Dirichlet conditions on the ``bias`` /
``ground`` Constant, which keeps terminal currents conservative reaction fluxes. The psi value
of either contact is that Constant plus a fixed offset; a Dirichlet condition of the coupling
layer takes a Constant only, so psi is imposed weakly by Nitsche's method (consistent, optimal
order; the penalty is 20 p^2 eps / h):

    - int eps dpsi/dn v - int eps dv/dn (psi - g) + int 20 p^2 eps/h (psi - g) v   on the contact.

All terms carry the scaling factors of the equation they belong to.
"""

from __future__ import annotations

import math

from ecx_device import geometry as geo
from ecx_device.fem import ufl
from ecx_device.physics.base import Context, Dirichlet, integrate
from ecx_device.physics.semiconductor_scaling import (
    SemiconductorParameters,
    quadrature_degree,
    statistics_for,
    with_quadrature,
)
from ecx_device.units import ELEMENTARY_CHARGE, MESH_UNIT

#: Nitsche penalty constant per degree^2 (safely above the 1D/2D inverse-inequality constants).
NITSCHE_PENALTY = 20.0

_DEFAULT_TERMINAL = {geo.Facet.CU_SINK: "bias", geo.Facet.W_SINK: "ground"}


def _degree(u) -> int:
    return u.function_space.ufl_element().embedded_superdegree


class _Contact:
    """Shared parts: the terminal potential and the weak (Nitsche) psi condition."""

    unknowns: tuple[str, ...] = ()

    def __init__(self, params: SemiconductorParameters, facet_group: str,
                 terminal: str | None = None):
        self.params, self.facet_group = params, facet_group
        self.terminal = terminal or _DEFAULT_TERMINAL.get(facet_group)
        if self.terminal is None:
            raise ValueError(f"say which context constant drives contact {facet_group!r}")
        self.stats = statistics_for(params)
        self.scaling = self.stats.scaling

    def potential(self, ctx: Context):
        """The metal potential V (V), a context Constant."""
        return ctx.constants[self.terminal]

    def psi_target(self, ctx: Context):
        """Value psi takes on the contact (V, UFL)."""
        raise NotImplementedError

    def _nitsche(self, ctx: Context, psi, v):
        d = ctx.domain
        n = ufl.FacetNormal(d.mesh)
        h = ufl.CellDiameter(d.mesh) * MESH_UNIT
        eps = self.params.permittivity
        gap = psi - self.psi_target(ctx)
        gamma = NITSCHE_PENALTY * _degree(psi) ** 2
        form = (-eps * ufl.dot(d.grad(psi), n) * v - eps * ufl.dot(d.grad(v), n) * gap
                + gamma * eps / h * gap * v)
        return with_quadrature(self.scaling.poisson_factor(d) * d.surface(form, self.facet_group),
                               quadrature_degree(psi))

    def residual(self, ctx: Context, u: dict, v: dict) -> dict:
        """The weak psi condition (added to Poisson's equation)."""
        return {"psi": self._nitsche(ctx, u["psi"], v["psi"])} if "psi" in u else {}


class OhmicContact(_Contact):
    """Ohmic contact: equilibrium carrier densities and quasi-Fermi potentials at the metal.

    Args:
        params: Semiconductor data at the contact.
        facet_group: Facet group of the contact.
        terminal: Context constant holding the metal potential (V); default ``bias`` for
            ``cu_sink`` and ``ground`` for ``w_sink``.
    """

    name = "ohmic_contact"

    def psi_target(self, ctx: Context):
        """V + V_T asinh(N / 2 n_i): charge neutrality with n p = n_i^2 (V)."""
        return self.potential(ctx) + self.stats.neutral_potential(ctx.domain.position())

    def dirichlet(self, ctx: Context) -> list[Dirichlet]:
        """phi_n = phi_p = V (strong), when the carriers are solved."""
        V = self.potential(ctx)
        return [Dirichlet(f, self.facet_group, V) for f in ("phi_n", "phi_p") if f in ctx.fields]


class SchottkyContact(_Contact):
    """Schottky contact with thermionic emission of electrons and holes.

    Args:
        params: Semiconductor data at the contact; needs N_c, N_v and both Richardson constants.
        facet_group: Facet group of the contact.
        barrier: Electron barrier height Phi_B = E_c - E_F,metal (eV).
        terminal: Context constant holding the metal potential (V); default as for ohmic.
    """

    name = "schottky_contact"

    def __init__(self, params: SemiconductorParameters, facet_group: str, barrier: float,
                 terminal: str | None = None):
        super().__init__(params, facet_group, terminal)
        self.barrier = float(barrier)
        p, vt = params, params.thermal_voltage
        for needed in ("N_c", "N_v", "richardson_n", "richardson_p"):
            p.require(needed)
        T2 = p.temperature**2
        #: Thermionic recombination velocities (m/s).
        self.v_n = p.richardson_n * T2 / (ELEMENTARY_CHARGE * p.N_c)
        self.v_p = p.richardson_p * T2 / (ELEMENTARY_CHARGE * p.N_v)
        #: Equilibrium densities at the interface (m^-3).
        self.n_b = p.N_c * math.exp(-self.barrier / vt)
        self.p_b = p.intrinsic_density**2 / self.n_b

    def psi_target(self, ctx: Context):
        """V - Phi_B + V_T ln(N_c / n_i) (V)."""
        return self.potential(ctx) - self.barrier + self.params.conduction_offset()

    def emission_fluxes(self, ctx: Context, fields: dict) -> tuple:
        """Outward normal current densities (J_n . n, J_p . n) in A/m^2 (UFL).

        With psi at its contact value, n - n_B = n_B (exp((V - phi_n)/V_T) - 1) and
        p - p_B = p_B (exp((phi_p - V)/V_T) - 1). That form is used: it is what a strong psi
        condition gives, it vanishes identically in equilibrium whatever the psi iterate, and its
        Newton derivative is set by n_B, p_B rather than by the density of the current iterate
        (which, from a charge-neutral start, is 10^8 times off and made the first hole update
        5e6 V).
        """
        q, vt = ELEMENTARY_CHARGE, self.params.thermal_voltage
        V = self.potential(ctx)
        excess_n = self.n_b * (ufl.exp((V - fields["phi_n"]) / vt) - 1.0)
        excess_p = self.p_b * (ufl.exp((fields["phi_p"] - V) / vt) - 1.0)
        return -q * self.v_n * excess_n, q * self.v_p * excess_p

    def residual(self, ctx: Context, u: dict, v: dict) -> dict:
        """Nitsche psi condition plus the thermionic-emission Robin terms int J . n v dA."""
        out = super().residual(ctx, u, v)
        if "phi_n" in u:
            d = ctx.domain
            jn, jp = self.emission_fluxes(ctx, u)
            cf = self.scaling.continuity_factor(d)
            q = quadrature_degree(u["phi_n"])
            out["phi_n"] = with_quadrature(cf * d.surface(jn * v["phi_n"], self.facet_group), q)
            out["phi_p"] = with_quadrature(cf * d.surface(jp * v["phi_p"], self.facet_group), q)
        return out

    def _emission_form(self, ctx: Context):
        jn, jp = self.emission_fluxes(ctx, ctx.fields)
        return ctx.domain.surface(-(jn + jp), self.facet_group)

    def emission_current(self, ctx: Context) -> float:
        """Current (A) into the device through the contact, from the emission fluxes."""
        return integrate(self._emission_form(ctx), ctx.domain.mesh.comm)

    def quantities(self, ctx: Context) -> dict[str, float]:
        """The thermionic-emission current of this contact (A, into the device)."""
        if "phi_n" not in ctx.fields:
            return {}
        q = ctx.evaluate(f"{self.name}:{self.facet_group}",
                         lambda: {"i": self._emission_form(ctx)})
        return {f"{self.facet_group}_emission_current [A]": q["i"]}
