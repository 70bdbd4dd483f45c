"""Supply- and front-limited cation exchange (``exchange.kinetics: front``; docs/model.md 8.8).

The guest cation (Cu+ in CdSe, Cd2+ in PbS) enters only through named contacts, moves as an
interstitial, and converts the host only in a reaction zone at the front between host (X = 0)
and product (X = 1), at a rate per unit front area. Unknowns per anion site of the host
(N [m^-3], fixed: the anion sublattice does not move): the mobile guest c, the exchanged
fraction X, and v (kept at 0: no vacancy channel here; it exists so the splitting of
:mod:`ecx_device.solvers.splitting` drives this module like the bulk one).

The rate law (host data: attempt frequency f, Casu's step barriers E_b, E_c, E_d, the exchange
free energy Delta g_x per event (the data give -Delta g_x > 0); a = N^(-1/3) the site spacing,
n_s = N a the sites per unit area, nu the guest cations per converted site, 2 for Cu2Se, 1 for CdS):

    k_x   = f exp(-(E_c + E_d)/(k_B T))         per front site: hop into place, kick out [1/s]
    c_D   = exp(-E_b/(k_B T))                   guest in equilibrium with a Cu2Se donor
    c_eq  = c_src exp(Delta g_x/(k_B T))        host and product coexist (detailed balance)
    j     = n_s k_x (c - c_eq)                  net events per unit front area [1/(m^2 s)]
    V     = j / N = a k_x (c - c_eq)            normal front velocity [m/s]

Forward k_x c and reverse k_x c_eq per front site: at c = c_eq the net rate is zero, below it
the front recedes (product reverts). Entry laws (guest atoms per m^2 and s into the host):

    donor contact i:  J = nu (n_i/A_i) k_x (c_D - c)    n_i entry sites (default n_s A_i)
    bath surface:     J = N k_s (c_b - c)                c_b = K_p C_bath N_A / N

A donor's entry site is a serial channel in Casu's sense: it admits the next Cu when the last has
completed b, c and d, so it converts at most k_x c_D = f P_CE sites per second. One entry site,
fast transport and a front larger than the contact give Casu's t_fc = N/(f P_CE)
(:mod:`ecx_device.physics.casu`; docs/model.md 8.8).

Transport and the reaction zone (per site; D_c the guest diffusivity, log-linear in X):

    dc/dt - div(D_c grad c) = -nu R
    dX/dt - div((V_f + V_b) delta grad X) = R = (2/delta) [V_f X^2 (1 - X) - V_b X (1 - X)^2]
    V_f = a k_x c,  V_b = a k_x c_eq,  V = V_f - V_b

(backward Euler, conversion and storage lumped). The guest is spent where R converts, at each
node's own c, so none is spent where there is none; the zone's diffusion of X conserves X, so
the guest balance is exact.

The second line is a bistable reaction-diffusion front: X = 1/(1 + exp(x_n/delta)) is its
exact travelling wave, moving at V (either sign) whatever the zone width delta, and nothing
converts where X = 0 or X = 1 (no conversion in the volume). A front of curvature kappa moves at
V - (V_f + V_b) delta kappa: the zone width acts as a capillary length, so conversion starts
from a seed larger than the critical radius (docs/model.md 8.8).
"""

from __future__ import annotations

from dataclasses import dataclass

from ecx_device.device.names import Region
from ecx_device.fem import dolfinx, ufl
from ecx_device.materials import Material
from ecx_device.materials.properties import Ops, UflOps
from ecx_device.physics.base import Context
from ecx_device.units import AVOGADRO, BOLTZMANN

__all__ = ["BathSurface", "DonorContact", "FrontExchange", "donor_occupancy",
           "equilibrium_occupancy", "front_rate_constant", "front_velocity", "net_event_rate"]


# -- the rate law (NumPy or UFL through ``ops``) ------------------------------------------------
def front_rate_constant(host: Material, T, ops=Ops):
    """k_x = f exp(-(E_c + E_d)/(k_B T)) (1/s): attempts per front site that hop into place and
    kick the host cation out (Casu's steps c and d)."""
    barrier = host("interstitial_hop_barrier", T, ops) + host("kick_out_barrier", T, ops)
    return host("exchange_attempt_frequency", T, ops) * ops.exp(-barrier / (BOLTZMANN * T))


def donor_occupancy(host: Material, T, ops=Ops):
    """c_D = exp(-E_b/(k_B T)) (-): guest per anion site in equilibrium with a Cu2Se donor of unit
    activity (Casu's step b as the interstitial's formation energy)."""
    return ops.exp(-host("interstitial_formation_barrier", T, ops) / (BOLTZMANN * T))


def equilibrium_occupancy(host: Material, c_source, T, ops=Ops):
    """c_eq = c_src exp(Delta g_x/(k_B T)) (-): the guest occupancy at which host and product
    coexist. Delta g_x (J) is the free energy of one exchange event with the guest taken from the
    source (occupancy c_src) and the host cation sent to its sink; the data give the driving
    energy -Delta g_x > 0 (``exchange_driving_energy``), so c_eq < c_src and the exchange runs
    while the source keeps c above c_eq."""
    return c_source * ops.exp(-host("exchange_driving_energy", T, ops) / (BOLTZMANN * T))


def net_event_rate(c, c_eq, k_x):
    """Net exchange events per front site and second, k_x c - k_x c_eq (1/s): forward (a guest
    next to the front kicks a host cation out) minus reverse (detailed balance with c_eq)."""
    return k_x * c - k_x * c_eq


def front_velocity(c, c_eq, k_x, site_density: float):
    """V = a k_x (c - c_eq) (m/s), a = N^(-1/3) (m): the front's normal speed."""
    return site_density ** (-1.0 / 3.0) * net_event_rate(c, c_eq, k_x)


# -- sources -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DonorContact:
    """A donor crystal touching the particle over facet group ``facet``.

    Attributes:
        facet: Facet group of the contact.
        area: Contact area A_i (m^2), measured on the mesh.
        entry_sites: Serial entry channels n_i (-); None: every site of the contact, n_s A_i.
    """

    facet: str
    area: float
    entry_sites: float | None = None


@dataclass(frozen=True)
class BathSurface:
    """The particle's surface in a bath of the guest cation.

    Attributes:
        facet: Facet group wetted by the bath.
        concentration: Guest concentration in the bath C_bath (mol/m^3).
    """

    facet: str
    concentration: float


def _plus(x):
    return 0.5 * (x + abs(x))


class FrontExchange:
    """One implicit time step of c, v, X with the front kinetics (module docstring).

    Args:
        host, product: Materials of the unexchanged and exchanged particle.
        site_density: N (m^-3), the host's anion sites.
        zone_width: delta (m), width of the reaction zone (a numerical length: the front speed
            does not depend on it; it must span about two cells).
        donors: Donor contacts (Cu from Cu2Se donors), or
        bath: the bath surface (exactly one kind of source).
    """

    name = "exchange"
    unknowns = ("c", "v", "X")
    anode = None  # no electrochemical source: the splitting reports no overpotential

    def __init__(self, host: Material, product: Material, site_density: float,
                 zone_width: float, donors: tuple[DonorContact, ...] = (),
                 bath: BathSurface | None = None):
        if bool(donors) == (bath is not None):
            raise ValueError("FrontExchange needs donors or a bath (exactly one kind of source)")
        self.host, self.product = host, product
        self.N, self.delta = float(site_density), float(zone_width)
        self.donors, self.bath = tuple(donors), bath
        self.nu = float(product.cations_per_anion)
        self.previous: dict[str, dolfinx.fem.Function] = {}
        self.dt: dolfinx.fem.Constant | None = None

    # -- the laws in UFL ----------------------------------------------------------------------
    def _host(self, ctx: Context, name: str):
        return self.host(name, ctx.temperature(), UflOps)

    def source_occupancy(self, ctx: Context):
        """c_src (-): c_D for donors, c_b = K_p C_bath N_A / N for a bath."""
        T = ctx.temperature()
        if self.bath is not None:
            return (self._host(ctx, "bath_partition_coefficient") * self.bath.concentration
                    * AVOGADRO / self.N)
        return donor_occupancy(self.host, T, UflOps)

    def equilibrium_value(self, T: float) -> float:
        """c_eq (-) at temperature T (K), as a number (initial states, tables)."""
        if self.bath is not None:
            c_src = (self.host("bath_partition_coefficient", T) * self.bath.concentration
                     * AVOGADRO / self.N)
        else:
            c_src = donor_occupancy(self.host, T)
        return float(equilibrium_occupancy(self.host, c_src, T))

    def velocities(self, ctx: Context, c):
        """Forward and reverse front speeds (V_f, V_b) = (a k_x c, a k_x c_eq) (m/s); the net
        normal velocity is V = V_f - V_b."""
        T = ctx.temperature()
        k_x = front_rate_constant(self.host, T, UflOps)
        c_eq = equilibrium_occupancy(self.host, self.source_occupancy(ctx), T, UflOps)
        a = self.N ** (-1.0 / 3.0)
        return a * k_x * c, a * k_x * c_eq

    def conversion(self, ctx: Context, c, X):
        """Reaction term of the zone (1/s): (2/delta) [V_f X^2 (1-X) - V_b X (1-X)^2]."""
        V_f, V_b = self.velocities(ctx, c)
        return 2.0 / self.delta * (V_f * X * X * (1 - X) - V_b * X * (1 - X) ** 2)

    def entry_flux(self, ctx: Context, c, donor: DonorContact | None = None):
        """Guest atoms per m^2 and s entering through a donor contact or the bath surface,
        divided by N (m/s)."""
        T = ctx.temperature()
        c_src = self.source_occupancy(ctx)
        if donor is None:
            return self._host(ctx, "surface_exchange_velocity") * (c_src - c)
        sites = donor.entry_sites if donor.entry_sites is not None \
            else self.N ** (2.0 / 3.0) * donor.area
        k_x = front_rate_constant(self.host, T, UflOps)
        return self.nu * sites / (donor.area * self.N) * k_x * (c_src - c)

    def _sources(self):
        """(facet, donor or None) of every source."""
        if self.bath is not None:
            return [(self.bath.facet, None)]
        return [(d.facet, d) for d in self.donors]

    def _inflow(self, ctx: Context, c, w):
        d = ctx.domain
        return sum(d.surface(self.entry_flux(ctx, c, src) * w, facet, lumped=True)
                   for facet, src in self._sources())

    # -- module interface ------------------------------------------------------------------------
    def residual(self, ctx: Context, u: dict, w: dict) -> dict:
        """Backward-Euler residuals of c, v, X (per site, integrated over the particle, m^3/s).

        The guest is consumed where the zone converts (the lumped conversion term, at each
        node's own c), not by the zone's diffusion of X, which only reshapes the zone: so no
        node spends guest it does not hold, and summed over the particle the two are the same
        (the diffusion conserves X), which keeps the guest balance exact."""
        d = ctx.domain
        if self.dt is None:
            self.dt = dolfinx.fem.Constant(d.mesh, 1.0)
        for name in self.unknowns:
            if name not in self.previous:
                self.previous[name] = dolfinx.fem.Function(u[name].function_space,
                                                           name=f"{name}_previous")
        ctx.composition = u["X"]  # the guest diffusivity follows X (implicit)
        c, v, X = u["c"], u["v"], u["X"]
        c0, X0 = self.previous["c"], self.previous["X"]
        dt, wr, lump = self.dt, Region.WIRE, {"lumped": True}
        D = ctx.property(wr, "cu_ion_diffusivity")
        R = self.conversion(ctx, c, X)
        V_f, V_b = self.velocities(ctx, c)
        Fc = (d.volume(((c - c0) / dt + self.nu * R) * w["c"], wr, **lump)
              + d.volume(D * ufl.dot(d.grad(c), d.grad(w["c"])), wr)
              - self._inflow(ctx, c, w["c"]))
        FX = (d.volume(((X - X0) / dt - R) * w["X"], wr, **lump)
              + d.volume((V_f + V_b) * self.delta * ufl.dot(d.grad(X), d.grad(w["X"])), wr))
        Fv = d.volume(v * w["v"], wr, **lump)
        return {"c": Fc, "v": Fv, "X": FX}

    def initial_guess(self, ctx: Context) -> dict[str, float]:
        """An unexchanged particle without guest (the builder seeds X)."""
        return {"c": 0.0, "v": 0.0, "X": 0.0}

    def accept(self, u: dict) -> None:
        """Make the current state the previous one (after an accepted step)."""
        for n in self.unknowns:
            self.previous[n].x.array[:] = u[n].x.array

    def balance_forms(self, ctx: Context) -> dict:
        """Inventories (atoms) and rates (atoms/s) under the keys the splitting reads
        (:meth:`CationExchange.balance_forms`): ``cu_*`` is the guest, ``cd_*`` the host cation;
        ``cu_in_rate`` is the discrete balance (storage + conversion), ``cu_in_rate_formula``
        the entry laws; ``cd_kickout_rate`` the host cations displaced (negative when the
        product reverts). No cathode, sublimation, ionic heat or anode here: those are zero
        forms (``anode_area`` is the particle volume, so the reported anode drop is 0)."""
        d, N, nu = ctx.domain, self.N, self.nu
        c, v, X = (ctx.fields[n] for n in self.unknowns)
        c0, X0 = self.previous["c"], self.previous["X"]
        wr, lump = Region.WIRE, {"lumped": True}
        one = dolfinx.fem.Constant(d.mesh, 1.0)
        zero = dolfinx.fem.Constant(d.mesh, 0.0)
        nothing = d.volume(zero, wr)
        return {
            "cu_mobile": d.volume(N * c, wr, **lump),
            "cu_lattice": d.volume(nu * N * X, wr, **lump),
            "cd_missing": d.volume(N * X, wr, **lump), "exchanged": d.volume(X, wr, **lump),
            "volume": d.volume(one, wr, **lump), "vacancies": d.volume(N * v, wr, **lump),
            "cu_in_rate": d.volume(N * ((c - c0) + nu * (X - X0)) / self.dt, wr, **lump),
            "cu_in_rate_formula": self._inflow(ctx, c, N),
            "cu_out_rate": nothing, "cd_sublimation_rate": nothing,
            "cd_kickout_rate": d.volume(N * (X - X0) / self.dt, wr, **lump),
            "ion_heat": nothing, "anode_area": d.volume(one, wr), "anode_drop": nothing,
        }


class FrontOutput:
    """Output-only module of a front-kinetics run: X, the host and guest cation densities
    (named by the materials' cations, e.g. ``Pb_density [m^-3]`` and ``Cd_density [m^-3]``)
    and the mobile guest per site. No unknowns.

        n_host = N (1 - X),   n_guest = nu N X   [m^-3]  (N mixed linearly between the phases)
    """

    name = "front_output"
    unknowns = ()

    def __init__(self, module: FrontExchange, c, X):
        self.module, self.c, self.X = module, c, X

    def residual(self, ctx: Context, u: dict, w: dict) -> dict:
        """No equation."""
        return {}

    def point_fields(self, ctx: Context) -> dict:
        """P1 fields of the composition (ctx.composition must be ``X``)."""
        m = self.module
        n_s = ctx.property(Region.WIRE, "sulfur_site_density")
        return {"exchanged_fraction [-]": self.X,
                f"{m.host.cation}_density [m^-3]": n_s * (1 - self.X),
                f"{m.product.cation}_density [m^-3]": m.nu * n_s * self.X,
                "guest_fraction [-]": self.c}
