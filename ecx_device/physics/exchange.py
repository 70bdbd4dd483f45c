"""Cation exchange in the wire: Cu+ Nernst-Planck, cation vacancies, the exchanged fraction X and
the displaced Cd (model.md 3.5-3.8, docs/model.md 8), one backward-Euler time step.

Unknowns, all per sulfur site of the wire (N [m^-3], the host's S-site density, fixed because the
S sublattice does not move):

    c  mobile (interstitial) ion M^z+ of the anode metal (Cu+ by default)
    v  empty cation sites (vacancies)
    X  exchanged fraction (0 = CdS, 1 = the product M_nu S, Cu2S for Cu);
       f_Cd = 1 - X - v  the Cd left on its sites
    cd the displaced Cd: neutral Cd0 off its site (a kicked-out Cd keeps its two electrons, so
       it is the species in equilibrium with Cd metal whatever the Fermi level, it evaporates as
       it is, and the ions' space charge z c - 2 v is unchanged by it).

Equations (rates per S site and second; x on the mesh, SI gradients):

    dc/dt + div(j) = -nu (r_v + r_k),   j = -D_c (grad c + z c grad(psi) / V_T)
    dv/dt - div(D_v grad v) = -r_v
    dX/dt = r_v + r_k
    dcd/dt - div(D_Cd grad cd) = r_k
    r_v = k_v c+ v+           Cu+ fills a vacancy (irreversible)   k_v = nu0 exp(-E_fill / k T)
    r_k = k_k c_s / (1 + a) [f_Cd+ a^nu - X+ a_Cd / K]             k_k = nu0 exp(-E_kick / k T)

r_k is the reversible exchange nu M_i + Cd_Cd <=> (M_nu S unit) + Cd0 (2 Cu_i + Cd_Cd <=>
Cu2S unit + Cd0 for Cu) in mass-action form on the
activities a = c+/c_s (c_s = c_lim exp(-E_form/kT): Cu_i in equilibrium with Cu metal) and
a_Cd = cd+/s_Cd (s_Cd: displaced Cd in equilibrium with Cd metal), K = exp(-Delta G_r / k T) with
Delta G_r the reaction's free energy per S site from the formation data (2 e E_rev of
``AnodeMetal.exchange_voltage``: +70.3 kJ/mol for Cu). It vanishes exactly at the detailed balance
X a_Cd = K f_Cd a^nu. The prefactor k_k c_s / (1 + a) makes the forward term (nu = 2)
k_k c f_Cd a/(1 + a): the kick-out k_k c f_Cd where Cu+ is plentiful (a >> 1), second order in c
where it is scarce, and smooth at c = 0 (no 1/c). For a non-integer nu, a^nu has an infinite
slope at a = 0, where Newton starts: it is replaced by the smooth a^2 (a^2 + eps^2)^((nu-2)/2),
eps = ACTIVITY_SCALE = 1e-3 (:func:`activity_power`), exactly a^2 for nu = 2 and a^nu to
within (eps/a)^2 for a >> eps.

nu = metal_per_sulfur of the product sulfide (2 for Cu2S, Ag2S, Li2S, Au2S; 1 for NiS, PtS;
2/3 for Al2S3; 1/2 for MoS2): nu ions per converted S site, so c + nu X is conserved apart from
the boundary fluxes; Cd on sites + displaced Cd, N (1 - X - v + cd), changes only by the two
surface losses below. (The converted lattice is taken as neutral, nu z = 2; Mo's tabulated
couple has z = 3 with nu = 1/2, so for Mo the space-charge bookkeeping is not exact.)

z is the charge number of the anode's ion. The transport data are the host's Cu+ data scaled to
the ion (docs/model.md 8.10): D_c = r_M(T) D_c(T, X) + v D_c,Cu2S(T), D_c(T, X) the host's
cu_ion_diffusivity (log-linear between CdS and Cu2S) and r_M(T) = D_M(T)/D_Cu(T) the ratio of
the ion's D0 exp(-E_m/kT) to Cu+'s from ``anodes.yaml`` (exactly 1 for Cu); a vacancy opens a
Cu2S-like path, so the ion moves fast where sites are empty. The hop barrier of the uptake limit
is raised by E_m(M) - E_m(Cu). The other Cu+ data (c_lim, E_form, the reaction barriers) are
the host's whatever the anode. D_v = D_v(T, X), D_Cd = D_Cd(T, X).

Boundary fluxes (number per m^2 and second, divided by N in the weak form):

- anode interface: Butler-Volmer dissolution M -> M_i^z+ + z e- (the wire's electrons),
  J = (A - C) / (1 + S/J_lim),  A = (j0(T)/q) (1 - c/c_lim) exp(a z eta/V_T),
  C = (j0(T)/q) (c/c_lim) exp(-(1-a) z eta/V_T), S the two attempt rates (A, C without their
  occupancy factors), bounded by the uptake limit J_lim = c_lim N a nu0 exp(-E_hop,M / kT),
  the ion's hop rate into the first interstitial layer (a the host's interstitial_hop_distance,
  E_hop,M = E_hop + E_m(M) - E_m(Cu); :func:`butler_volmer`),
  eta = (V_m - phi_n) - E_eq: the local drop across the interface (the metal's potential V_m
  against the electron quasi-Fermi potential phi_n of the wire there) less its equilibrium value
  E_eq. By default E_eq = (k T / z e) ln((c_lim - c_s) / c_s) (:meth:`CationExchange.
  anode_equilibrium`), so at zero drop the interface sits at c = c_s: metal and interstitial in
  equilibrium. The exchange's Delta G_r is paid in the bulk (r_k), not here (docs/model.md 8.2).
  A metal that is the cathode sees eta < 0: deposition, no dissolution;
- cathode interface: Cu+ is reduced, J_out = k_red N c;
- free surface: displaced Cd evaporates (Hertz-Knudsen-Langmuir at its activity)
  J_ev = alpha_v p_Cd,metal(T) a_Cd / sqrt(2 pi m_Cd k T), a sink of cd; and CdS sublimes
  congruently, J_sub = alpha_v p_CdS(T) f_Cd+ / sqrt(2 pi m_Cd k T), each Cd lost emptying a site
  (a vacancy source). J_sub is ~1e-18 atoms/s in the Zhang runs: kept, but not a working path.

The electrostatic potential psi [V] (the ohmic model's potential, or the drift-diffusion wire's
psi), the electron quasi-Fermi potential phi_n [V] and the temperature T [K] are given fields of
the ion context (the electro-thermal solve of the current composition); they are frozen during an
ion step.

The plus-parts c+, v+, f_Cd+, cd+ in the rates keep a slightly negative Newton iterate from turning
a sink into a source.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ecx_device.device.names import Facet, Region
from ecx_device.fem import MPI, dolfinx, ufl
from ecx_device.materials import CD_ATOMIC_MASS, anode_metal
from ecx_device.materials.properties import UflOps
from ecx_device.physics.base import Context
from ecx_device.physics.ion_transport import diffusion_tensor
from ecx_device.units import AVOGADRO, BOLTZMANN, ELEMENTARY_CHARGE

#: Activity scale eps of the smooth power a^nu ~ a^2 (a^2 + eps^2)^((nu - 2)/2) of the
#: mass-action law (:func:`activity_power`): below a ~ eps the forward exchange of a product with
#: nu < 2 falls as a^2 instead of a^nu, whose slope is infinite at a = 0 (-).
ACTIVITY_SCALE = 1e-3

#: Bound F of the reduced overpotential in the Butler-Volmer exponentials, |f| <= F: beyond it
#: (eta > 15 V for z = 1 at 300 K) the flux is saturated anyway, and exp(F) stays far from
#: overflow (-).
MAX_REDUCED_OVERPOTENTIAL = 600.0


def butler_volmer(theta, f, rate, limit, alpha: float, ops):
    """Net dissolution flux of a site-blocking Butler-Volmer interface that saturates at the
    uptake limit (units of ``rate`` and ``limit``, e.g. m/s per S site):

        A = rate (1 - theta) e^(alpha f_b),   C = rate theta e^(-(1 - alpha) f_b),
        J = (A - C) / (1 + S / limit),   S = rate (e^(alpha f_b) + theta e^(-(1 - alpha) f_b)),
        f_b = min(max(f, -F), F),

    theta >= 0 the occupancy of the interface (c / c_lim), f = z eta / V_T the reduced
    overpotential. S, the attempt rates of the two directions, is positive and smooth for any
    theta. Near equilibrium (S << limit) this is Butler-Volmer; at a large drive J tends to
    limit (1 - theta), the free sites of the first layer filled at the hop rate, and to -limit
    for a large cathodic drive; J = 0 exactly where A = C (detailed balance); above saturation
    (theta > 1, ions brought by transport) J < 0 at any drive. Nothing overflows for any f
    (F = MAX_REDUCED_OVERPOTENTIAL).

    Args:
        theta: Occupancy (-).
        f: Reduced overpotential z eta / V_T (-).
        rate: Exchange rate j0 / q (per the caller's normalisation).
        limit: Uptake limit (same units as ``rate``).
        alpha: Anodic transfer coefficient (-).
        ops: ``numpy`` or ``ufl``.
    """
    bound = MAX_REDUCED_OVERPOTENTIAL
    fb = ops.minimum(ops.maximum(f, -bound), bound) if ops is not ufl else \
        ufl.min_value(ufl.max_value(f, -bound), bound)
    forward = ops.exp(alpha * fb)
    backward = theta * ops.exp(-(1.0 - alpha) * fb)
    # the saturation uses the attempt rates, not A + C: above saturation A < 0, and a signed sum
    # flipped the denominator's sign there (an oversaturated interface then flooded the wire)
    return rate * ((1.0 - theta) * forward - backward) / (1.0 + rate * (forward + backward)
                                                          / limit)


def _plus(x):
    """max(x, 0) as UFL."""
    return 0.5 * (x + abs(x))


def activity_power(a, nu: float, ops=ufl):
    """a^nu for the mass-action law, smooth at a = 0 for any nu > 0 (Newton starts from c = 0):
    exactly a * a for nu = 2 (Cu2S, Ag2S, Li2S, Au2S), else a^2 (a^2 + eps^2)^((nu - 2)/2),
    eps = ACTIVITY_SCALE: a^nu to a relative (eps/a)^2 (nu - 2)/2 where a >> eps, a^2 eps^(nu-2)
    where a << eps (-).

    Args:
        a: Activity a >= 0 (-).
        nu: Metal atoms per S atom of the product (-).
        ops: ``ufl`` (forms) or ``numpy``.
    """
    if nu == 2:
        return a * a
    pow_ = (lambda x, p: x ** p) if ops is ufl else ops.power
    return a * a * pow_(a * a + ACTIVITY_SCALE ** 2, 0.5 * (nu - 2.0))


@dataclass(frozen=True)
class AnodeKinetics:
    """Butler-Volmer data of the anode metal M (SI).

    Attributes:
        equilibrium_voltage: E_eq (V), the local drop across the metal|wire interface at which
            dissolution and deposition balance, or None (the default of the runs): the metal in
            equilibrium with its interstitial ion, M <=> M_i^z+ + z e-, i.e. c = c_s at zero
            drop (:meth:`CationExchange.anode_equilibrium`; docs/model.md 8.2). The exchange
            reaction's Delta G_r is paid in the bulk exchange, not here.
        exchange_current: j0(T, ops) (A/m^2), e.g. ``AnodeMetal.exchange_current``.
        transfer_coefficient: Anodic transfer coefficient alpha (-).
        charge_number: Charge z of the dissolved ion (-): the electrons per ion in the
            Butler-Volmer exponent, the drift of the ion and its space charge.
        diffusivity_prefactor_ratio: D0(M) / D0(Cu) of the ion's lattice diffusivity (-).
        migration_energy_shift: E_m(M) - E_m(Cu) (J): the ion's migration energy above Cu+'s;
            it scales the lattice diffusivity (:meth:`diffusivity_ratio`) and raises the hop
            barrier of the uptake limit. 1 and 0 for Cu: the host's Cu+ data unchanged.
    """

    equilibrium_voltage: float | None
    exchange_current: Callable[..., Any]
    transfer_coefficient: float = 0.5
    charge_number: int = 1
    diffusivity_prefactor_ratio: float = 1.0
    migration_energy_shift: float = 0.0

    def diffusivity_ratio(self, T, ops=ufl):
        """D_M(T) / D_Cu(T) = (D0_M / D0_Cu) exp(-(E_m(M) - E_m(Cu)) / k T) (-), exactly 1.0
        for Cu's data (so Cu's forms are unchanged); ``ops`` ``ufl`` or ``numpy``."""
        if self.migration_energy_shift == 0.0:
            return self.diffusivity_prefactor_ratio
        return self.diffusivity_prefactor_ratio * ops.exp(
            -self.migration_energy_shift / (BOLTZMANN * T))


@dataclass(frozen=True)
class CuSupply:
    """A chemical (not electrochemical) Cu source on a facet group, for the thermal variant:
    J = k_s N (c_s - c), c_s = c_lim exp(-E_form/kT), k_s = a nu0 exp(-E_hop/kT) [m/s], a the
    hop distance (m): ``hop_distance``, or None for the host's ``interstitial_hop_distance``."""

    facet_group: str
    hop_distance: float | None = None  # m


def cu_exchange_free_energy() -> float:
    """Delta G_r (J per formula unit) of 2 Cu + CdS -> Cu2S + Cd from the tabulated formation
    data (``AnodeMetal.exchange_free_energy``: +70.3 kJ/mol, 0.729 eV)."""
    return anode_metal("Cu").exchange_free_energy()


class CationExchange:
    """One implicit time step of c, v, X, cd on the wire (see module docstring).

    Args:
        anode_facet: Facet group of the anode|wire interface (Cu+ enters there).
        cathode_facet: Facet group of the inert electrode|wire interface (Cu+ is reduced there).
        anode: Butler-Volmer data of the anode metal, or None for no electrochemical source.
        reduction_velocity: k_red at the cathode (m/s).
        supply: Optional chemical Cu source (thermal variant).
        site_density: N, S sites per m^3 of the host.
        sublimation: Congruent CdS sublimation on the free surface (a vacancy source).
        evaporation: Evaporation of the displaced Cd from the free surface.
        reaction_free_energy: Delta G_r (J per S site) of the exchange nu M + CdS ->
            M_nu S + Cd; default Cu's (:func:`cu_exchange_free_energy`).
        metal_per_sulfur: nu, metal atoms per S atom of the product (2 for Cu2S, 2/3 for
            Al2S3; ``AnodeMetal.metal_per_sulfur``): the ions one converted site takes up.
    """

    name = "exchange"
    unknowns = ("c", "v", "X", "cd")
    #: A kicked-out Cd stays in the wire as ``cd`` (the splitting's Cd balance must not count
    #: the kick-out as a loss).
    kicked_out_cd_leaves = False

    def __init__(self, anode_facet: str, cathode_facet: str, anode: AnodeKinetics | None,
                 site_density: float, reduction_velocity: float = 1e-3,
                 supply: CuSupply | None = None, sublimation: bool = True,
                 evaporation: bool = True, reaction_free_energy: float | None = None,
                 metal_per_sulfur: float = 2.0):
        self.anode_facet, self.cathode_facet = anode_facet, cathode_facet
        self.anode, self.supply, self.sublimation = anode, supply, sublimation
        self.evaporation = evaporation
        self.reaction_free_energy = (cu_exchange_free_energy() if reaction_free_energy is None
                                     else float(reaction_free_energy))
        self.N = float(site_density)
        if not metal_per_sulfur > 0:
            raise ValueError(f"metal_per_sulfur = {metal_per_sulfur!r}: expected > 0")
        self.nu = float(metal_per_sulfur)
        self.k_red = float(reduction_velocity)
        self.previous: dict[str, dolfinx.fem.Function] = {}
        self.dt: dolfinx.fem.Constant | None = None

    # -- rates and fluxes (UFL) ------------------------------------------------------------------
    def _prop(self, ctx: Context, name: str):
        return _wire_prop(ctx, name)

    def _exchanged(self, ctx: Context, name: str):
        """Property of the fully exchanged phase (Cu2S) at the local temperature."""
        return ctx.exchanged[Region.WIRE](name, ctx.temperature(), UflOps)

    def _arrhenius(self, ctx: Context, barrier: str):
        T = ctx.temperature()
        return (self._prop(ctx, "exchange_attempt_frequency")
                * ufl.exp(-self._prop(ctx, barrier) / (BOLTZMANN * T)))

    def rates(self, ctx: Context, c, v, X, cd):
        """(r_v, r_k): vacancy filling and net exchange (kick-out) rates per S site (1/s).

        r_v = k_v c+ v+ is irreversible: its reverse would take a Cu2S unit apart into two
        Cu_i and an empty cation site of CdS, i.e. pay the V_Cd formation energy on top of
        Delta G_r, so its equilibrium vacancy fraction is negligible (docs/model.md 8.2).
        r_k = k_k c_s / (1 + a) [f_Cd+ a^nu - X+ a_Cd / K], zero at the detailed balance
        X a_Cd = K f_Cd a^nu (module docstring; a^nu smooth at 0, :func:`activity_power`)."""
        kT = BOLTZMANN * ctx.temperature()
        r_v = self._arrhenius(ctx, "vacancy_filling_barrier") * _plus(c) * _plus(v)
        c_s = self.cu_metal_equilibrium(ctx)
        a = _plus(c) / c_s
        a_cd = self.cd_activity(ctx, cd)
        # 1/K = exp(+Delta G_r/kT): the backward (Cd re-entering) term of the reaction
        inverse_k = ufl.exp(self.reaction_free_energy / kT)
        f_cd = _plus(1.0 - X - v)
        # nu = 2 keeps the product f a a as it was written before nu (Cu: bitwise the same forms)
        forward = f_cd * a * a if self.nu == 2 else f_cd * activity_power(a, self.nu)
        r_k = (self._arrhenius(ctx, "kick_out_barrier") * c_s / (1.0 + a)
               * (forward - _plus(X) * a_cd * inverse_k))
        return r_v, r_k

    def cu_metal_equilibrium(self, ctx: Context):
        """c_s = c_lim exp(-E_form / k T) (per S site): interstitial Cu+ in equilibrium with Cu
        metal (Casu's interstitial creation step), the reference of a = c / c_s."""
        return self._prop(ctx, "cu_solubility_limit") * ufl.exp(
            -self._prop(ctx, "interstitial_formation_barrier") / (BOLTZMANN * ctx.temperature()))

    def cd_activity(self, ctx: Context, cd):
        """a_Cd = cd+ / s_Cd (-), s_Cd the displaced Cd in equilibrium with Cd metal."""
        return _plus(cd) / self._prop(ctx, "cd_metal_solubility")

    def evaporation_flux(self, ctx: Context, cd):
        """Hertz-Knudsen-Langmuir evaporation of the displaced Cd from the free surface
        (atoms/(m^2 s)): alpha_v p_Cd,metal(T) a_Cd / sqrt(2 pi m_Cd k T), Cd metal's vapour
        pressure at the local Cd activity (into vacuum: no back flux); 0 if off."""
        if not self.evaporation:
            return 0.0
        T = ctx.temperature()
        # Cd metal's property, not the host's: read unmixed from the host material
        p_metal = ctx.materials[Region.WIRE]("cd_metal_vapour_pressure", T, UflOps)
        return (self._prop(ctx, "evaporation_coefficient") * p_metal * _cd_flux_per_pascal(T)
                * self.cd_activity(ctx, cd))

    def cu_diffusivity(self, ctx: Context, v):
        """D_c (m^2/s): the mixed lattice value, scaled to the anode's ion by D_M(T)/D_Cu(T)
        (:meth:`AnodeKinetics.diffusivity_ratio`; 1 for Cu), plus the vacancy-opened
        Cu2S-like path; a tensor where the mesh resolves a sub-surface layer, which enhances
        the lattice part (:func:`~ecx_device.physics.ion_transport.diffusion_tensor`)."""
        lattice = self._prop(ctx, "cu_ion_diffusivity")
        if self.anode is not None:
            ratio = self.anode.diffusivity_ratio(ctx.temperature(), ufl)
            if not (isinstance(ratio, float) and ratio == 1.0):  # Cu: the forms as before
                lattice = lattice * ratio
        return diffusion_tensor(ctx, "cu", lattice,
                                isotropic=_plus(v) * self._exchanged(ctx, "cu_ion_diffusivity"))

    def cu_flux(self, ctx: Context, c, v):
        """j / N (m/s): Nernst-Planck flux of Cu+ per S site."""
        d = ctx.domain
        vt = BOLTZMANN * ctx.temperature() / ELEMENTARY_CHARGE
        z = self.anode.charge_number if self.anode is not None else 1
        return -self.cu_diffusivity(ctx, v) * (d.grad(c) + z * c * d.grad(ctx.fields["psi"]) / vt)

    def ion_heat_density(self, ctx: Context):
        """Work the field does on the moving ions, z q N j . E (W/m^3, UFL; E = -grad psi): the
        ions' Joule heat, added to the heat source of the self-heated wire. It is the field's
        share only: the ions' free energy of mixing and the reaction's free energy are not heat
        released here (docs/model.md 8.2)."""
        c, v = ctx.fields["c"], ctx.fields["v"]
        z = self.anode.charge_number if self.anode is not None else 1
        return -z * ELEMENTARY_CHARGE * self.N * ufl.dot(self.cu_flux(ctx, c, v),
                                                         ctx.domain.grad(ctx.fields["psi"]))

    def overpotential(self, ctx: Context):
        """eta = (V_m - phi_n) - E_eq (V): the local drop across the anode|wire interface, the
        anode metal's potential V_m (the ``bias`` constant) against the electron quasi-Fermi
        potential phi_n of the wire at the interface, less its equilibrium value."""
        return ctx.constants["bias"] - ctx.fields["phi_n"] - self.anode_equilibrium(ctx)

    def anode_equilibrium(self, ctx: Context):
        """E_eq (V, UFL): the anode's set value, or (None) the drop at which M <=> M_i^z+ + z e-
        balances with c = c_s at the interface: A = C of :func:`butler_volmer` at
        theta_s = c_s / c_lim gives E_eq = (k T / z e) ln((1 - theta_s) / theta_s)."""
        if self.anode.equilibrium_voltage is not None:
            return self.anode.equilibrium_voltage
        theta_s = self.cu_metal_equilibrium(ctx) / self._prop(ctx, "cu_solubility_limit")
        vt = BOLTZMANN * ctx.temperature() / ELEMENTARY_CHARGE
        return vt / self.anode.charge_number * ufl.ln((1.0 - theta_s) / theta_s)

    def anode_flux(self, ctx: Context, c):
        """Butler-Volmer flux of the dissolving ion into the wire per S site (m/s), bounded by
        the ion's hop rate into the wire (:func:`butler_volmer`)."""
        if self.anode is None:
            return 0.0
        a = self.anode
        T = ctx.temperature()
        vt = BOLTZMANN * T / ELEMENTARY_CHARGE
        j0 = a.exchange_current(T, UflOps)
        c_lim = self._prop(ctx, "cu_solubility_limit")
        return butler_volmer(c / c_lim, a.charge_number * self.overpotential(ctx) / vt,
                             j0 / (ELEMENTARY_CHARGE * self.N),
                             self.uptake_limit(ctx) / self.N, a.transfer_coefficient, ufl)

    def uptake_limit(self, ctx: Context):
        """Largest dissolution flux the wire can take up (atoms/(m^2 s)): every interstitial
        site of the first layer at the interface (c_lim N a per m^2, a the host's
        ``interstitial_hop_distance``) filled at the ion's hop rate nu0 exp(-E_hop / k T)
        (:meth:`hop_rate`)."""
        return (self._prop(ctx, "cu_solubility_limit") * self.N * self.hop_distance(ctx)
                * self.hop_rate(ctx))

    def hop_distance(self, ctx: Context):
        """a (m): the host's ``interstitial_hop_distance``, unmixed (the first interstitial
        layer at a contact is the host's)."""
        return ctx.materials[Region.WIRE]("interstitial_hop_distance", ctx.temperature(),
                                          UflOps)

    def hop_rate(self, ctx: Context):
        """nu0 exp(-(E_hop + E_m(M) - E_m(Cu)) / k T) (1/s): the host's Cu+ hop rate into the
        first interstitial layer, its barrier raised by the anode ion's migration energy above
        Cu+'s (:class:`AnodeKinetics`; no shift for Cu or without an anode)."""
        rate = self._arrhenius(ctx, "interstitial_hop_barrier")
        shift = self.anode.migration_energy_shift if self.anode is not None else 0.0
        if shift == 0.0:
            return rate
        return rate * ufl.exp(-shift / (BOLTZMANN * ctx.temperature()))

    def cathode_flux(self, ctx: Context, c):
        """Cu+ reduced at the inert electrode, per S site (m/s, out of the wire)."""
        return self.k_red * c

    def supply_flux(self, ctx: Context, c):
        """Chemical Cu supply into the wire per S site (m/s)."""
        if self.supply is None:
            return 0.0
        c_s = self.cu_metal_equilibrium(ctx)
        a = self.supply.hop_distance
        k_s = (self.hop_distance(ctx) if a is None else a) * self.hop_rate(ctx)
        return k_s * (c_s - c)

    def sublimation_flux(self, ctx: Context, c, v, X):
        """Congruent CdS sublimation, Cd flux from the free surface (atoms/(m^2 s)), 0 if off."""
        return cd_sublimation_flux(ctx, c, v, X) if self.sublimation else 0.0

    # -- module interface ------------------------------------------------------------------------
    def residual(self, ctx: Context, u: dict, w: dict) -> dict:
        """Backward-Euler residuals of c, v, X, cd (per S site, integrated over the wire,
        m^3/s)."""
        d = ctx.domain
        mesh = d.mesh
        if self.dt is None:
            self.dt = dolfinx.fem.Constant(mesh, 1.0)
        for name in self.unknowns:
            if name not in self.previous:
                self.previous[name] = dolfinx.fem.Function(u[name].function_space,
                                                           name=f"{name}_previous")
        ctx.composition = u["X"]  # properties follow the unknown X (implicit in X)
        c, v, X, cd = (u[n] for n in self.unknowns)
        c0, v0, X0, cd0 = (self.previous[n] for n in self.unknowns)
        dt = self.dt
        r_v, r_k = self.rates(ctx, c, v, X, cd)
        wr = Region.WIRE
        # storage, reactions and boundary sources are lumped (vertex quadrature): each node then
        # behaves like a little reactor, which keeps thin boundary layers from undershooting
        lump = {"lumped": True}
        # The reaction rate enters once, in the X equation; c and cd take it as the lattice's
        # storage dX/dt (- r_v for cd). Near detailed balance r_k is the small difference of two
        # large terms, and evaluating it in every equation left a round-off mismatch of
        # ~1e-16 x forward/net between them (a Cu balance error of 4e-4 in the default case).
        # Written so, the ions (c + nu X) and Cd (1 - X - v + cd) are conserved by the reactions
        # exactly.
        dXdt = (X - X0) / dt
        Fc = (d.volume((c - c0) / dt * w["c"] + self.nu * dXdt * w["c"], wr, **lump)
              - d.volume(ufl.dot(self.cu_flux(ctx, c, v), d.grad(w["c"])), wr)
              - d.surface(self.anode_flux(ctx, c) * w["c"], self.anode_facet, **lump)
              - d.surface(self.supply_flux(ctx, c) * w["c"], *self._supply_facets(), **lump)
              + d.surface(self.cathode_flux(ctx, c) * w["c"], self.cathode_facet, **lump))
        Dv = diffusion_tensor(ctx, "vacancy", self._prop(ctx, "vacancy_diffusivity"))
        Fv = (d.volume((v - v0) / dt * w["v"] + r_v * w["v"], wr, **lump)
              + d.volume(ufl.dot(Dv * d.grad(v), d.grad(w["v"])), wr)
              - d.surface(self.sublimation_flux(ctx, c, v, X) / self.N * w["v"],
                          Facet.WIRE_SURFACE, **lump))
        FX = d.volume(((X - X0) / dt - (r_v + r_k)) * w["X"], wr, **lump)
        Fcd = (d.volume(((cd - cd0) / dt - (dXdt - r_v)) * w["cd"], wr, **lump)
               + d.volume(self._prop(ctx, "cd_diffusivity") * ufl.dot(d.grad(cd), d.grad(w["cd"])),
                          wr)
               + d.surface(self.evaporation_flux(ctx, cd) / self.N * w["cd"],
                           Facet.WIRE_SURFACE, **lump))
        return {"c": Fc, "v": Fv, "X": FX, "cd": Fcd}

    def _supply_facets(self) -> tuple[str, ...]:
        return (self.supply.facet_group,) if self.supply else ()

    def initial_guess(self, ctx: Context) -> dict[str, float]:
        """A pristine wire: no Cu+, no vacancies, X = 0, no displaced Cd."""
        return {"c": 0.0, "v": 0.0, "X": 0.0, "cd": 0.0}

    def accept(self, u: dict) -> None:
        """Make the current state the previous one (after an accepted step)."""
        for n in self.unknowns:
            self.previous[n].x.array[:] = u[n].x.array

    # -- balances ---------------------------------------------------------------------------------
    def balance_forms(self, ctx: Context) -> dict:
        """Scalar forms of the inventories (atoms) and rates (atoms/s) of the current step,
        consistent with the residual.

        ``cu_in_rate`` is recovered from the discrete balance (storage of mobile and lattice Cu
        + cathode outflow, the conservative flux, like a reaction force), so the Cu balance
        checks the bookkeeping of steps, rejections and restarts, not the interface: a fast Butler-Volmer interface
        sits near equilibrium, where its net flux is the small difference of two large terms and
        the formula itself carries round-off of ~1e-6 of the flux; ``cu_in_rate_formula`` is that
        formula, and their difference shows the interface's precision."""
        d, N = ctx.domain, self.N
        c, v, X, cd = (ctx.fields[n] for n in self.unknowns)
        c0, X0 = self.previous["c"], self.previous["X"]
        r_v, _ = self.rates(ctx, c, v, X, cd)
        wr = Region.WIRE
        one = dolfinx.fem.Constant(d.mesh, 1.0)
        out_rate = d.surface(N * self.cathode_flux(ctx, c), self.cathode_facet, lumped=True)
        lump = {"lumped": True}  # the quadrature of the residual, so the balance closes
        return {
            "cu_mobile": d.volume(N * c, wr, **lump), "cu_lattice": d.volume(self.nu * N * X, wr,
                                                                         **lump),
            # Cd missing from the wire, N (X + v - cd) (off its sites and not held as displaced
            # Cd): small, so no cancellation against the full Cd inventory when differenced
            "cd_missing": d.volume(N * (X + v - cd), wr, **lump),
            "cd_displaced": d.volume(N * cd, wr, **lump), "exchanged": d.volume(X, wr, **lump),
            "volume": d.volume(one, wr, **lump), "vacancies": d.volume(N * v, wr, **lump),
            "cu_in_rate": d.volume(N * ((c - c0) + self.nu * (X - X0)) / self.dt, wr, **lump)
            + out_rate,
            "cu_in_rate_formula": (d.surface(N * self.anode_flux(ctx, c), self.anode_facet,
                                             **lump)
                                   + d.surface(N * self.supply_flux(ctx, c),
                                               *self._supply_facets(), **lump)),
            "cu_out_rate": out_rate,
            "cd_sublimation_rate": d.surface(self.sublimation_flux(ctx, c, v, X),
                                             Facet.WIRE_SURFACE, **lump),
            "cd_evaporation_rate": d.surface(self.evaporation_flux(ctx, cd), Facet.WIRE_SURFACE,
                                             **lump),
            # the net exchange the step made, as the equations carry it (8.3): dX/dt - r_v
            "cd_kickout_rate": d.volume(N * ((X - X0) / self.dt - r_v), wr, **lump),
            "ion_heat": d.volume(self.ion_heat_density(ctx), wr),
            "anode_area": d.surface(one, self.anode_facet),
            "anode_drop": d.surface(ctx.constants["bias"] - ctx.fields["phi_n"], self.anode_facet),
            # E_eq may depend on T: its area mean gives the reported overpotential
            "anode_equilibrium": d.surface(
                one * (self.anode_equilibrium(ctx) if self.anode is not None else 0.0),
                self.anode_facet),
        }


def cd_sublimation_flux(ctx: Context, c, v, X):
    """Congruent sublimation of the CdS left, CdS -> Cd(g) + 1/2 S2(g), as a Hertz-Knudsen-
    Langmuir Cd flux from the free wire surface (atoms/(m^2 s)):
    alpha_v p_CdS(T) f_Cd+ / sqrt(2 pi m_Cd k T), p_CdS the host's congruent pressure (unmixed).
    The Cu-assisted release (2Cu + CdS -> Cu2S + Cd(g)) is no longer mixed in here: it is the
    exchange r_k followed by the evaporation of the displaced Cd, both explicit. ``c`` is
    unused (kept for the callers' signature)."""
    T = ctx.temperature()
    p_eq = ctx.materials[Region.WIRE]("cd_equilibrium_pressure", T, UflOps)
    return (_wire_prop(ctx, "evaporation_coefficient") * p_eq * _cd_flux_per_pascal(T)
            * _plus(1.0 - X - v))


def _cd_flux_per_pascal(T):
    """Hertz-Knudsen impingement rate of Cd atoms, 1 / sqrt(2 pi m_Cd k T)
    (atoms/(m^2 s Pa), UFL)."""
    return 1.0 / ufl.sqrt(2 * math.pi * CD_ATOMIC_MASS * BOLTZMANN * T)


def _wire_prop(ctx: Context, name: str):
    """A wire property at the local temperature and composition (UFL, SI)."""
    return ctx.property(Region.WIRE, name)


class SublimationCooling:
    """The enthalpy carried off by the sublimating Cd, a heat sink on the free wire surface in the
    electro-thermal problem: -k dT/dn += H_Cd J_Cd, H_Cd [J per atom] the congruent release
    enthalpy (CdS -> Cd(g) + 1/2 S2) of the host. (The evaporating displaced Cd's heat of
    vaporisation is not included: docs/model.md 8.6.)

    c and v are given fields on the whole mesh (the exchange stepper fills them before each
    electro-thermal solve); X is the context's composition. No unknowns."""

    name = "sublimation_cooling"
    unknowns = ()

    def __init__(self):
        self.c: dolfinx.fem.Function | None = None
        self.v: dolfinx.fem.Function | None = None

    def residual(self, ctx: Context, u: dict, w: dict) -> dict:
        """Surface heat sink in the T equation (W)."""
        if "T" not in w:
            return {}
        if self.c is None:  # once: the stepper and the compiled forms hold these objects
            V = ctx.composition.function_space
            self.c = dolfinx.fem.Function(V, name="c_given")
            self.v = dolfinx.fem.Function(V, name="v_given")
        return {"T": ctx.domain.surface(self.heat_flux(ctx) * w["T"], Facet.WIRE_SURFACE)}

    def heat_flux(self, ctx: Context):
        """H_Cd J_Cd (W/m^2) leaving the free surface."""
        X = ctx.composition
        per_atom = ctx.materials[Region.WIRE]("cd_release_enthalpy", ctx.temperature(),
                                              UflOps) / AVOGADRO
        return per_atom * cd_sublimation_flux(ctx, self.c, self.v, X)

    def quantities(self, ctx: Context) -> dict[str, float]:
        """Heat carried off by sublimation (W)."""
        def build():
            return {"q": ctx.domain.surface(self.heat_flux(ctx), Facet.WIRE_SURFACE)}
        return {"sublimation_cooling [W]": ctx.evaluate(self.name, build)["q"]}


def front_position(X: dolfinx.fem.Function, axial_index: int) -> float:
    """Largest axial coordinate (nm from the Cu surface) of a node with X >= 1/2, -inf if none
    (the X = 1/2 level set to one cell's resolution); max over MPI ranks."""
    V = X.function_space
    x = V.tabulate_dof_coordinates()[:, axial_index]
    n = V.dofmap.index_map.size_local
    hit = X.x.array[:n] >= 0.5
    local = float(x[:n][hit].max()) if hit.any() else -np.inf
    return V.mesh.comm.allreduce(local, op=MPI.MAX)


class ExchangeOutput:
    """Output-only module: the ion fields (given Functions on the mesh of the series)."""

    name = "exchange_output"
    unknowns = ()

    def __init__(self, c, v, cd=None):
        self.c, self.v, self.cd = c, v, cd

    def residual(self, ctx, u, w):
        """No equation."""
        return {}

    def point_fields(self, ctx) -> dict:
        """Mobile Cu+, vacancies and displaced Cd per S site (-); meaningful in the wire only."""
        fields = {"cu_ion_fraction [-]": self.c, "vacancy_fraction [-]": self.v}
        if self.cd is not None:
            fields["displaced_cd_fraction [-]"] = self.cd
        return fields


def ionic_charge_density(c, v, site_density: float, charge_number: int = 1):
    """Space charge of the ionic species (elementary charges per m^3, UFL), from c and v per S
    site: mobile interstitials M_i^(z+) carry +z each, an empty cation site V_Cd'' carries -2
    (the Cd^2+ it lost). The lattice carries no charge of its own: a converted formula unit
    (2 Cu^+ for one Cd^2+, X) is neutral, and the dopants of each phase are in the heterostructure's
    N_D(X), N_A(X) (docs/model.md 8.2)."""
    return site_density * (charge_number * c - 2.0 * v)
