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
when drift-diffusion in the depletion layer is fast (Crowell-Sze: times 1/(1 + v_n/v_D)).

Optional barrier corrections of the electron emission (off by default), as an effective lowering
dPhi of the barrier that the emitting electrons see: J_n . n = -q v_n exp(dPhi/kT) (n - n_B), i.e.
the emission velocity grows by exp(dPhi/kT) while the psi condition keeps the unlowered Phi_B (the
lowering is a property of the barrier top a few nm inside, not of the band edge at the metal; the
flux still vanishes in equilibrium). Where emission limits the current (v_n << v_D) the current
grows by exp(dPhi/kT); where diffusion through the depletion layer limits it, less:

- image-force lowering, dPhi_if = sqrt(q E_s / (4 pi eps_s)) (Sze & Ng, 3rd ed., 2007, ch. 3),
  E_s = |grad psi . n| the field at the interface from the solved psi (so it follows the bias, the
  doping and the geometry - a nanowire's field is not the planar depletion value), regularised as
  sqrt(E_s^2 + E_floor^2), E_floor = 1e3 V/m (dPhi = 0.4 mV), since d sqrt(E)/dE is infinite at
  E = 0; eps_s the local static permittivity;
- thermionic-field emission (tunnelling through the top of a thin barrier), the exponent of
  Padovani & Stratton (Solid-State Electron. 9, 695 (1966)): J_TFE / J_TE ~ exp(V_bb (1/kT -
  1/E_0)), i.e. dPhi_tfe = V_bb (1 - kT/E_0), with E_0 = E_00 coth(E_00/kT),
  E_00 = (q hbar / 2) sqrt(N / (m* eps_s)), N = |N_D - N_A| at the contact, m* the density-of-
  states mass of the local N_c (N_c = 2 (2 pi m* kT / h^2)^1.5), and V_bb the band bending from the
  same interface field by the depletion approximation, V_bb = eps_s E_s^2 / (2 q N), capped at
  Phi_B. Their O(1) prefactor sqrt(pi E_00 q V_bb)/(kT cosh(E_00/kT)) is left out so that the
  correction tends to 1 as E_00/kT -> 0 (thermionic emission). Meant for E_00 <~ kT (CdS at
  5e17 cm^-3: E_00 = 9.6 meV); field emission (E_00 >> kT) is not modelled.

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

from ecx_device.device.names import Facet
from ecx_device.fem import dolfinx, ufl
from ecx_device.physics.base import Context, Dirichlet
from ecx_device.physics.semiconductor_scaling import (
    SemiconductorParameters,
    exponential,
    quadrature_degree,
    statistics_for,
    with_quadrature,
)
from ecx_device.units import BOLTZMANN, ELEMENTARY_CHARGE, HBAR, MESH_UNIT

#: Field floor (V/m) of the image-force lowering (see the module docstring).
IMAGE_FIELD_FLOOR = 1e3


def tfe_energies(doping, eps, n_c, temperature, ops=math):
    """Padovani-Stratton energies (E_00, E_0) in eV.

    Args:
        doping: Ionised dopant density N (m^-3).
        eps: Static permittivity (F/m).
        n_c: Effective density of states of the conduction band (m^-3); gives the density-of-
            states mass m* = (h^2 / (2 pi k T)) (N_c / 2)^(2/3).
        temperature: T (K).
        ops: ``math`` for numbers, or an object with ``sqrt``, ``exp`` (e.g. ``ufl``).
    """
    kT = BOLTZMANN * temperature
    m_eff = (2 * math.pi * HBAR) ** 2 / (2 * math.pi * kT) * (n_c / 2) ** (2.0 / 3.0)
    e00 = HBAR / 2 * ops.sqrt(doping / (m_eff * eps))  # q hbar/2 sqrt(.) [J] / q -> eV
    x = e00 / (kT / ELEMENTARY_CHARGE)
    # coth x = (1 + e^-2x) / (1 - e^-2x), written to stay finite for large x
    e0 = e00 * (1 + ops.exp(-2 * x)) / (1 - ops.exp(-2 * x))
    return e00, e0


def tfe_lowering(band_bending, doping, eps, n_c, temperature, ops=math):
    """Effective barrier lowering of thermionic-field emission, V_bb (1 - kT/E_0) (eV).

    Args:
        band_bending: V_bb (V), the barrier height above the neutral conduction band.
        doping, eps, n_c, temperature, ops: as for :func:`tfe_energies`.
    """
    _, e0 = tfe_energies(doping, eps, n_c, temperature, ops)
    return band_bending * (1 - (BOLTZMANN * temperature / ELEMENTARY_CHARGE) / e0)

#: Nitsche penalty constant per degree^2 (safely above the 1D/2D inverse-inequality constants).
NITSCHE_PENALTY = 20.0

_DEFAULT_TERMINAL = {Facet.CU_SINK: "bias", Facet.W_SINK: "ground"}


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
        eps = self.stats.permittivity
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
        """V + V_T asinh(N / 2 n_i): charge neutrality with n p = n_i^2 (V); in a
        heterostructure with the local n_i and band offsets
        (:meth:`CarrierStatistics.neutral_potential`)."""
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
        barrier: Electron barrier height Phi_B = E_c - E_F,metal (eV): a number, or a UFL
            expression on the contact (a barrier that follows the local phase).
        terminal: Context constant holding the metal potential (V); default as for ohmic.
        image_force: Lower the electron barrier by the image force (module docstring).
        tunnelling: Lower it further by thermionic-field emission (module docstring).
        energy: The carriers' transport energy (Peltier heat at the contact), or None.
    """

    name = "schottky_contact"

    def __init__(self, params: SemiconductorParameters, facet_group: str, barrier: float,
                 terminal: str | None = None, image_force: bool = False,
                 tunnelling: bool = False, energy=None):
        super().__init__(params, facet_group, terminal)
        self.energy = energy
        self.barrier = float(barrier) if isinstance(barrier, int | float) else barrier
        self.image_force, self.tunnelling = bool(image_force), bool(tunnelling)
        p, st = params, self.stats
        for needed in ("N_c", "N_v", "richardson_n", "richardson_p"):
            p.require(needed)
        T2 = st.T**2  # the local lattice temperature (a number when isothermal)
        # local values (numbers for a homogeneous semiconductor, UFL of X in a heterostructure)
        N_c, N_v = st.local("N_c"), st.local("N_v")
        #: Thermionic recombination velocities (m/s).
        self.v_n = st.local("richardson_n") * T2 / (ELEMENTARY_CHARGE * N_c)
        self.v_p = st.local("richardson_p") * T2 / (ELEMENTARY_CHARGE * N_v)
        #: Equilibrium densities at the interface (m^-3): n_B = N_c exp(-Phi_B/kT),
        #: p_B = n_i^2 / n_B, formed in the exponent so that no n_i^2 underflows.
        self.n_b = N_c * exponential(-self.barrier / st.vt)
        C0 = st.scaling.density
        self.p_b = C0 * exponential(st.a_n + st.a_p - st.log_dos("N_c")
                                    + self.barrier / st.vt)

    def psi_target(self, ctx: Context):
        """V - Phi_B + V_T ln(N_c / n_i) (V); in a heterostructure
        V - Phi_B + V_T (ln(N_c/C_0) - a_n) with the local N_c and a_n."""
        st = self.stats
        return self.potential(ctx) - self.barrier + st.vt * (st.log_dos("N_c") - st.a_n)

    def lowering(self, ctx: Context, fields: dict) -> dict:
        """Barrier lowerings (eV, UFL on the contact facets): ``image_force``, ``tunnelling``.

        Both from the interface field E_s = |grad psi . n| of the current psi (V/m).
        """
        out = {}
        if not (self.image_force or self.tunnelling):
            return out
        d, st = ctx.domain, self.stats
        n = ufl.FacetNormal(d.mesh)
        e_n = ufl.dot(d.grad(fields["psi"]), n)
        e_s = ufl.sqrt(e_n * e_n + IMAGE_FIELD_FLOOR**2)
        eps = st.permittivity
        if self.image_force:
            out["image_force"] = ufl.sqrt(ELEMENTARY_CHARGE * e_s / (4 * math.pi * eps))
        if self.tunnelling:
            nd, na = st.doping(d.position())
            dop = ufl.sqrt((nd - na) ** 2 + 1.0)  # |N| (m^-3), kept off 0 for the sqrt
            bending = ufl.min_value(eps * e_s**2 / (2 * ELEMENTARY_CHARGE * dop), self.barrier)
            out["tunnelling"] = tfe_lowering(bending, dop, eps, st.local("N_c"), st.T, ops=ufl)
        return out

    def emission_fluxes(self, ctx: Context, fields: dict) -> tuple:
        """Outward normal current densities (J_n . n, J_p . n) in A/m^2 (UFL).

        With psi at its contact value, n - n_B = n_B (exp((V - phi_n)/V_T) - 1) and
        p - p_B = p_B (exp((phi_p - V)/V_T) - 1). That form is used: it is what a strong psi
        condition gives, it vanishes identically in equilibrium whatever the psi iterate, and its
        Newton derivative is set by n_B, p_B rather than by the density of the current iterate
        (which, from a charge-neutral start, is 10^8 times off and made the first hole update
        5e6 V).
        """
        q, vt = ELEMENTARY_CHARGE, self.stats.vt
        V = self.potential(ctx)
        n_b = self.n_b
        lowered = self.lowering(ctx, fields)
        if lowered:  # electrons see the lowered barrier; the holes' barrier is left as it is
            n_b = n_b * ufl.exp(sum(lowered.values()) / vt)
        excess_n = n_b * (ufl.exp((V - fields["phi_n"]) / vt) - 1.0)
        excess_p = self.p_b * (ufl.exp((fields["phi_p"] - V) / vt) - 1.0)
        return -q * self.v_n * excess_n, q * self.v_p * excess_p

    def interface_heat(self, ctx: Context, fields: dict):
        """Heat released at the interface (W/m^2, UFL): J_n . n (zeta_n - V) + J_p . n
        (zeta_p - V), the energy a carrier brings to (or takes from) the metal's Fermi level.
        With the carriers' transport energy (``energy``, :class:`~ecx_device.physics.carriers.
        TransportEnergy`) an electron crossing into the metal releases Phi_B + 2 k_B T and one
        emitted from it absorbs as much (Peltier heating and cooling); without it zeta = phi,
        the drop from the quasi-Fermi level (>= 0 both ways). Released where the carriers
        thermalise, at the contact (the heat coupling puts it into the wire's first cells)."""
        jn, jp = self.emission_fluxes(ctx, fields)
        V = self.potential(ctx)
        zn, zp = (self.energy.potentials(fields) if self.energy is not None
                  else (fields["phi_n"], fields["phi_p"]))
        return jn * (zn - V) + jp * (zp - V)

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

    def quantities(self, ctx: Context) -> dict[str, float]:
        """The thermionic-emission current of this contact (A, into the device), the heat
        released at it (W, :meth:`interface_heat`) and, when enabled, the area-mean barrier
        lowerings (eV)."""
        if "phi_n" not in ctx.fields:
            return {}
        if self.energy is not None:
            self.energy.update(ctx)

        def forms() -> dict:
            d = ctx.domain
            out = {"i": self._emission_form(ctx), "area": d.surface(
                dolfinx.fem.Constant(d.mesh, 1.0), self.facet_group),
                "heat": with_quadrature(d.surface(self.interface_heat(ctx, ctx.fields),
                                                  self.facet_group),
                                        quadrature_degree(ctx.fields["phi_n"]))}
            for k, form in self.lowering(ctx, ctx.fields).items():
                out[k] = d.surface(form, self.facet_group)
            return out

        q = ctx.evaluate(f"{self.name}:{self.facet_group}", forms)
        out = {f"{self.facet_group}_emission_current [A]": q["i"],
               f"{self.facet_group}_contact_heat [W]": q["heat"]}
        for k in ("image_force", "tunnelling"):
            if k in q:
                out[f"{self.facet_group}_{k}_lowering [eV]"] = q[k] / q["area"]
        return out
