"""Cation exchange in the wire: Cu+ Nernst-Planck, cation vacancies and the exchanged fraction X
(model.md 3.5-3.8), one backward-Euler time step.

Unknowns, all per sulfur site of the wire (N [m^-3], the host's S-site density, fixed because the
S sublattice does not move):

    c  mobile (interstitial) Cu+            v  empty cation sites (vacancies)
    X  exchanged fraction (0 = CdS, 1 = Cu2S);   f_Cd = 1 - X - v  the Cd left on its sites.

Equations (rates per S site and second; x on the mesh, SI gradients):

    dc/dt + div(j) = -2 (r_v + r_k),   j = -D_c (grad c + z c grad(psi) / V_T)
    dv/dt - div(D_v grad v) = -r_v
    dX/dt = r_v + r_k
    r_v = k_v c+ v+           Cu+ fills a vacancy       k_v = nu0 exp(-E_fill / k T)
    r_k = k_k c+ f_Cd+        Cu+ kicks out a Cd       k_k = nu0 exp(-E_kick / k T)

z is the ion's charge number (1 for Cu+; the transport data are Cu+'s whatever the anode).
Two Cu per converted formula unit (Cu2S), so c + 2X is conserved apart from the boundary fluxes;
each kicked-out Cd leaves the wire (Casu et al.'s step d; the Cd interstitial is not tracked).
D_c = D_c(T, X) (log-linear between CdS and Cu2S) + v D_c,Cu2S(T): a vacancy opens a Cu2S-like
path, so Cu+ moves fast where sublimation has emptied sites. D_v = D_v(T, X).

Boundary fluxes (number per m^2 and second, divided by N in the weak form):

- anode interface: Butler-Volmer dissolution M -> M^z+ + z e-,
  J = (A - C) / (1 + S/J_lim),  A = (j0(T)/q) (1 - c/c_lim) exp(a z eta/V_T),
  C = (j0(T)/q) (c/c_lim) exp(-(1-a) z eta/V_T), S the two attempt rates (A, C without their
  occupancy factors), bounded by the uptake limit J_lim, the ion's
  hop rate into the first interstitial layer (:func:`butler_volmer`),
  eta = (V_m - phi_n) - E_eq: the local drop across the interface (the metal's potential V_m
  against the electron quasi-Fermi potential phi_n of the wire there) less its equilibrium value
  E_eq, the exchange reaction's Delta G_r / (2F) per S atom (docs/model.md 8.2). A metal that is
  the cathode sees eta < 0: deposition, no dissolution (a prediction, not a switch);
- cathode interface: Cu+ is reduced, J_out = k_red N c;
- free surface: Hertz-Knudsen-Langmuir Cd loss J_Cd = alpha_v p_eq(T) f_Cd+ / sqrt(2 pi m_Cd k T);
  each Cd lost empties a site, so J_Cd / N is a vacancy source on the surface. p_eq is the Cu-
  assisted equilibrium pressure (2Cu + CdS -> Cu2S + Cd(g)) where Cu is present and the congruent
  CdS one elsewhere, mixed log-linearly by theta = min(c + X, 1).

The electrostatic potential psi [V] (the ohmic model's potential, or the drift-diffusion wire's
psi), the electron quasi-Fermi potential phi_n [V] and the temperature T [K] are given fields of
the ion context (the electro-thermal solve of the current composition); they are frozen during an
ion step.

The plus-parts c+, v+, f_Cd+ in the rates keep a slightly negative Newton iterate from turning a
sink into a source.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ecx_device.device.names import Facet, Region
from ecx_device.fem import MPI, dolfinx, ufl
from ecx_device.materials import CD_ATOMIC_MASS
from ecx_device.materials.properties import MIXING_RULES, UflOps, mix
from ecx_device.physics.base import Context
from ecx_device.physics.ion_transport import diffusion_tensor
from ecx_device.units import AVOGADRO, BOLTZMANN, ELEMENTARY_CHARGE

#: Distance of one ion hop between interstitial sites (m), as the Mott-Gurney / ECM models use
#: (parameters.md section 7: 0.2-0.5 nm; an estimate).
HOP_DISTANCE = 0.3e-9

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


@dataclass(frozen=True)
class AnodeKinetics:
    """Butler-Volmer data of the anode metal M (SI).

    Attributes:
        equilibrium_voltage: E_eq (V), the local drop across the metal|wire interface at which
            dissolution and deposition balance: by default the exchange reaction's
            Delta G_r / (2F) per S atom (``AnodeMetal.exchange_voltage``; docs/model.md 8.2).
        exchange_current: j0(T, ops) (A/m^2), e.g. ``AnodeMetal.exchange_current``.
        transfer_coefficient: Anodic transfer coefficient alpha (-).
        charge_number: Charge z of the dissolved ion (-): the electrons per ion in the
            Butler-Volmer exponent, the drift of the ion and its space charge.
    """

    equilibrium_voltage: float
    exchange_current: Callable[..., Any]
    transfer_coefficient: float = 0.5
    charge_number: int = 1


@dataclass(frozen=True)
class CuSupply:
    """A chemical (not electrochemical) Cu source on a facet group, for the thermal variant:
    J = k_s N (c_s - c), c_s = c_lim exp(-E_form/kT), k_s = a nu0 exp(-E_hop/kT) [m/s]."""

    facet_group: str
    hop_distance: float = HOP_DISTANCE  # m


class CationExchange:
    """One implicit time step of c, v, X on the wire (see module docstring).

    Args:
        anode_facet: Facet group of the anode|wire interface (Cu+ enters there).
        cathode_facet: Facet group of the inert electrode|wire interface (Cu+ is reduced there).
        anode: Butler-Volmer data of the anode metal, or None for no electrochemical source.
        reduction_velocity: k_red at the cathode (m/s).
        supply: Optional chemical Cu source (thermal variant).
        site_density: N, S sites per m^3 of the host.
    """

    name = "exchange"
    unknowns = ("c", "v", "X")

    def __init__(self, anode_facet: str, cathode_facet: str, anode: AnodeKinetics | None,
                 site_density: float, reduction_velocity: float = 1e-3,
                 supply: CuSupply | None = None, sublimation: bool = True):
        self.anode_facet, self.cathode_facet = anode_facet, cathode_facet
        self.anode, self.supply, self.sublimation = anode, supply, sublimation
        self.N = float(site_density)
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

    def rates(self, ctx: Context, c, v, X):
        """(r_v, r_k): vacancy filling and kick-out rates per S site (1/s)."""
        f_cd = 1.0 - X - v
        r_v = self._arrhenius(ctx, "vacancy_filling_barrier") * _plus(c) * _plus(v)
        r_k = self._arrhenius(ctx, "kick_out_barrier") * _plus(c) * _plus(f_cd)
        return r_v, r_k

    def cu_diffusivity(self, ctx: Context, v):
        """D_c (m^2/s): the mixed lattice value plus the vacancy-opened Cu2S-like path; a tensor
        where the mesh resolves a sub-surface layer, which enhances the lattice part
        (:func:`~ecx_device.physics.ion_transport.diffusion_tensor`)."""
        return diffusion_tensor(ctx, "cu", self._prop(ctx, "cu_ion_diffusivity"),
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
        return ctx.constants["bias"] - ctx.fields["phi_n"] - self.anode.equilibrium_voltage

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
        site of the first layer at the interface (c_lim N a per m^2, a the hop distance) filled
        at the ion's hop rate nu0 exp(-E_hop / k T)."""
        return (self._prop(ctx, "cu_solubility_limit") * self.N * HOP_DISTANCE
                * self._arrhenius(ctx, "interstitial_hop_barrier"))

    def cathode_flux(self, ctx: Context, c):
        """Cu+ reduced at the inert electrode, per S site (m/s, out of the wire)."""
        return self.k_red * c

    def supply_flux(self, ctx: Context, c):
        """Chemical Cu supply into the wire per S site (m/s)."""
        if self.supply is None:
            return 0.0
        T = ctx.temperature()
        kT = BOLTZMANN * T
        c_s = self._prop(ctx, "cu_solubility_limit") * ufl.exp(
            -self._prop(ctx, "interstitial_formation_barrier") / kT)
        k_s = self.supply.hop_distance * self._arrhenius(ctx, "interstitial_hop_barrier")
        return k_s * (c_s - c)

    def sublimation_flux(self, ctx: Context, c, v, X):
        """Hertz-Knudsen-Langmuir Cd flux from the free surface (atoms/(m^2 s)), 0 if off."""
        return cd_sublimation_flux(ctx, c, v, X) if self.sublimation else 0.0

    # -- module interface ------------------------------------------------------------------------
    def residual(self, ctx: Context, u: dict, w: dict) -> dict:
        """Backward-Euler residuals of c, v, X (per S site, integrated over the wire, m^3/s)."""
        d = ctx.domain
        mesh = d.mesh
        if self.dt is None:
            self.dt = dolfinx.fem.Constant(mesh, 1.0)
        for name in self.unknowns:
            if name not in self.previous:
                self.previous[name] = dolfinx.fem.Function(u[name].function_space,
                                                           name=f"{name}_previous")
        ctx.composition = u["X"]  # properties follow the unknown X (implicit in X)
        c, v, X = u["c"], u["v"], u["X"]
        c0, v0, X0 = (self.previous[n] for n in self.unknowns)
        dt = self.dt
        r_v, r_k = self.rates(ctx, c, v, X)
        wr = Region.WIRE
        # storage, reactions and boundary sources are lumped (vertex quadrature): each node then
        # behaves like a little reactor, which keeps thin boundary layers from undershooting
        lump = {"lumped": True}
        Fc = (d.volume((c - c0) / dt * w["c"] + 2 * (r_v + r_k) * w["c"], wr, **lump)
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
        return {"c": Fc, "v": Fv, "X": FX}

    def _supply_facets(self) -> tuple[str, ...]:
        return (self.supply.facet_group,) if self.supply else ()

    def initial_guess(self, ctx: Context) -> dict[str, float]:
        """A pristine wire: no Cu+, no vacancies, X = 0."""
        return {"c": 0.0, "v": 0.0, "X": 0.0}

    def accept(self, u: dict) -> None:
        """Make the current state the previous one (after an accepted step)."""
        for n in self.unknowns:
            self.previous[n].x.array[:] = u[n].x.array

    # -- balances ---------------------------------------------------------------------------------
    def balance_forms(self, ctx: Context) -> dict:
        """Scalar forms of the inventories (atoms) and rates (atoms/s) of the current step,
        consistent with the residual.

        ``cu_in_rate`` is recovered from the discrete balance (storage + reactions + cathode
        outflow, the conservative flux, like a reaction force): a fast Butler-Volmer interface
        sits near equilibrium, where its net flux is the small difference of two large terms and
        the formula itself carries round-off of ~1e-6 of the flux; ``cu_in_rate_formula`` is that
        formula, and their difference shows the interface's precision."""
        d, N = ctx.domain, self.N
        c, v, X = (ctx.fields[n] for n in self.unknowns)
        c0 = self.previous["c"]
        r_v, r_k = self.rates(ctx, c, v, X)
        wr = Region.WIRE
        one = dolfinx.fem.Constant(d.mesh, 1.0)
        out_rate = d.surface(N * self.cathode_flux(ctx, c), self.cathode_facet, lumped=True)
        lump = {"lumped": True}  # the quadrature of the residual, so the balance closes
        return {
            "cu_mobile": d.volume(N * c, wr, **lump), "cu_lattice": d.volume(2 * N * X, wr, **lump),
            # Cd missing from its sites, N (X + v): small, so no cancellation against the full
            # Cd inventory when the loss is differenced
            "cd_missing": d.volume(N * (X + v), wr, **lump), "exchanged": d.volume(X, wr, **lump),
            "volume": d.volume(one, wr, **lump), "vacancies": d.volume(N * v, wr, **lump),
            "cu_in_rate": d.volume(N * ((c - c0) / self.dt + 2 * (r_v + r_k)), wr, **lump)
            + out_rate,
            "cu_in_rate_formula": (d.surface(N * self.anode_flux(ctx, c), self.anode_facet,
                                             **lump)
                                   + d.surface(N * self.supply_flux(ctx, c),
                                               *self._supply_facets(), **lump)),
            "cu_out_rate": out_rate,
            "cd_sublimation_rate": d.surface(self.sublimation_flux(ctx, c, v, X),
                                             Facet.WIRE_SURFACE, **lump),
            "cd_kickout_rate": d.volume(N * r_k, wr, **lump),
            "ion_heat": d.volume(self.ion_heat_density(ctx), wr),
            "anode_area": d.surface(one, self.anode_facet),
            "anode_drop": d.surface(ctx.constants["bias"] - ctx.fields["phi_n"], self.anode_facet),
        }


def _cu_presence(c, X):
    """theta = min(c+ + X+, 1): where Cu has arrived, Cd leaves by the Cu-assisted reaction."""
    return ufl.min_value(_plus(c) + _plus(X), 1.0)


def cd_sublimation_flux(ctx: Context, c, v, X):
    """Hertz-Knudsen-Langmuir Cd flux from the free wire surface (atoms/(m^2 s)),
    alpha_v p_eq(T, theta) f_Cd+ / sqrt(2 pi m_Cd k T); p_eq log-linear between the congruent and
    the Cu-assisted equilibrium pressure by the Cu presence theta."""
    T = ctx.temperature()
    p_eq = _by_cu_presence(ctx, "cd_equilibrium_pressure", c, X)
    hkl = 1.0 / ufl.sqrt(2 * math.pi * CD_ATOMIC_MASS * BOLTZMANN * T)
    return _wire_prop(ctx, "evaporation_coefficient") * p_eq * hkl * _plus(1.0 - X - v)


def _wire_prop(ctx: Context, name: str):
    """A wire property at the local temperature and composition (UFL, SI)."""
    return ctx.property(Region.WIRE, name)


def _by_cu_presence(ctx: Context, name: str, c, X):
    """Property ``name`` where no Cu has arrived, mixed toward ``name + '_cu_assisted'`` by the
    Cu presence theta with the property's own mixing rule."""
    return mix(_wire_prop(ctx, name), _wire_prop(ctx, f"{name}_cu_assisted"), _cu_presence(c, X),
               MIXING_RULES[name], UflOps)


class SublimationCooling:
    """The enthalpy carried off by the sublimating Cd, a heat sink on the free wire surface in the
    electro-thermal problem: -k dT/dn += H_Cd J_Cd, H_Cd [J per atom] linear between the
    congruent (CdS -> Cd(g) + 1/2 S2) and the Cu-assisted release enthalpy by theta.

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
        per_atom = _by_cu_presence(ctx, "cd_release_enthalpy", self.c, X) / AVOGADRO
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

    def __init__(self, c, v):
        self.c, self.v = c, v

    def residual(self, ctx, u, w):
        """No equation."""
        return {}

    def point_fields(self, ctx) -> dict:
        """Mobile Cu+ and vacancies per S site (-); meaningful in the wire only."""
        return {"cu_ion_fraction [-]": self.c, "vacancy_fraction [-]": self.v}


def ionic_charge_density(c, v, site_density: float, charge_number: int = 1):
    """Space charge of the ionic species (elementary charges per m^3, UFL), from c and v per S
    site: mobile interstitials M_i^(z+) carry +z each, an empty cation site V_Cd'' carries -2
    (the Cd^2+ it lost). The lattice carries no charge of its own: a converted formula unit
    (2 Cu^+ for one Cd^2+, X) is neutral, and the dopants of each phase are in the heterostructure's
    N_D(X), N_A(X) (docs/model.md 8.2)."""
    return site_density * (charge_number * c - 2.0 * v)
