"""Electron and hole continuity in drift-diffusion form with SRH recombination (model.md 3.3).

    div J_n =  q R,   J_n = -q mu_n n grad phi_n,
    div J_p = -q R,   J_p = -q mu_p p grad phi_p,
    R = (n p - n_i^2) / (tau_p (n + n_1) + tau_n (p + p_1)),

with the quasi-Fermi potentials phi_n, phi_p [V] as unknowns and the Boltzmann densities of
:mod:`ecx_device.physics.semiconductor_scaling` (J [A/m^2], R [m^-3 s^-1], mu [m^2/(V s)]). The
quasi-Fermi form needs no upwinding: J_n = -q mu_n n grad phi_n is exactly the drift plus
diffusion current, and the densities are exponentials of the unknowns, hence positive.
Surfaces without a contact carry no current (J . n = 0); contacts live in
:mod:`ecx_device.physics.contacts`. Both residuals are scaled by 1/(q R_0 Omega_0).

Mesh resolution. Galerkin on quasi-Fermi potentials integrates n grad phi_n with the cell's
arithmetic mean of n, while the exact flux through a cell with linear psi weighs n harmonically
(the Scharfetter-Gummel Bernoulli factors). The two agree when the potential step across a cell,
h |grad psi|, is small against V_T; the Poisson module reports its maximum
(``max_cell_potential_step [V_T]``). Measured: a p-n diode with 0.9 V_T per cell is within 1 % of
DEVSIM's Scharfetter-Gummel current; a junction with 4 V_T per cell gives minority quasi-Fermi
errors of several %, and with 8-15 V_T per cell Newton diverges in the minority regions (the
rows there carry densities 1e-14 of the majority's). Keep the step <~ 1 V_T (P1) or use P2;
exponential fitting (edge-averaged elements) would lift the limit and is not implemented.

Terminal currents are reaction fluxes, I = int q (mu_n n grad phi_n + mu_p p grad phi_p) . grad w
dV with w = 1 on the terminal's degrees of freedom and 0 elsewhere. For the discrete solution this
is the conservative boundary flux (the recombination terms of the two equations cancel), so anode
and cathode currents agree to the accuracy with which the interior equations are solved - and to
the resolution of double precision: at low forward bias the majority quasi-Fermi potential next
to the biased terminal differs from the bias by ~1e-16 V per cell, so that terminal's current is
known only to eps |V| times the conductance of its first cells (``current_resolution [A]``); the
grounded terminal, where phi ~ 0, is resolved to round-off.
"""

from __future__ import annotations

import numpy as np

from ecx_device import nodal
from ecx_device.device.names import Facet, Region
from ecx_device.fem import MPI, dolfinx, ufl
from ecx_device.physics.base import Context
from ecx_device.physics.semiconductor_scaling import (
    QuasiFermiNewtonHooks,
    SemiconductorParameters,
    quadrature_degree,
    statistics_for,
    with_quadrature,
)
from ecx_device.units import ELEMENTARY_CHARGE


class DriftDiffusion(QuasiFermiNewtonHooks):
    """Electron and hole continuity for ``phi_n`` and ``phi_p`` (V), with SRH recombination.

    Needs the ``psi`` unknown of :class:`ecx_device.physics.poisson.Poisson`.

    Args:
        params: Semiconductor data (mobilities, lifetimes, n_i, trap level).
        regions: Cell regions filled by this semiconductor.
        terminals: Facet groups reported as terminals by :meth:`quantities` (anode first).
    """

    name = "drift_diffusion"
    unknowns = ("phi_n", "phi_p")

    def __init__(self, params: SemiconductorParameters,
                 regions: tuple[str, ...] = (Region.WIRE,),
                 terminals: tuple[str, str] = (Facet.CU_SINK, Facet.W_SINK),
                 energy: TransportEnergy | None = None):
        self.params, self.regions, self.terminals = params, tuple(regions), tuple(terminals)
        self.stats = statistics_for(params)
        self.scaling = self.stats.scaling
        #: The energy the carriers carry (Peltier heat); None: Joule + recombination heat only.
        self.energy = energy

    # -- physics -----------------------------------------------------------------------------
    def densities(self, fields: dict) -> tuple:
        """(n, p) in m^-3 as UFL expressions."""
        C0, st = self.scaling.density, self.stats
        return (C0 * st.n(fields["psi"], fields["phi_n"]),
                C0 * st.p(fields["psi"], fields["phi_p"]))

    def recombination(self, fields: dict):
        """SRH net recombination rate R (m^-3 s^-1)."""
        f = fields
        return self.scaling.density * self.stats.srh(f["psi"], f["phi_n"], f["phi_p"])

    def current_densities(self, ctx: Context, fields: dict) -> tuple:
        """(J_n, J_p) in A/m^2 as UFL vectors."""
        n, p = self.densities(fields)
        d, q, st = ctx.domain, ELEMENTARY_CHARGE, self.stats
        return (-q * st.local("mu_n") * n * d.grad(fields["phi_n"]),
                -q * st.local("mu_p") * p * d.grad(fields["phi_p"]))

    def heat_density(self, ctx: Context, fields: dict):
        """Heat the carriers release in the lattice (W/m^3, UFL):

            H = -J_n . grad zeta_n - J_p . grad zeta_p + q R (zeta_p - zeta_n),

        with zeta the carriers' transport-energy potentials (:class:`TransportEnergy`: Joule,
        recombination and Peltier heat), or zeta = phi_n, phi_p without it (Joule
        q mu n |grad phi_n|^2 + ... plus the energy q (phi_p - phi_n) each recombining pair gives
        up). Tested with zeta, the discrete continuity equations make its integral plus the
        contacts' heat (:meth:`SchottkyContact.interface_heat`, :meth:`terminal_heat_forms`)
        equal to the electrical power sum_terminals V I exactly.
        """
        jn, jp = self.current_densities(ctx, fields)
        d = ctx.domain
        zn, zp = self.energy.potentials(fields) if self.energy else (fields["phi_n"],
                                                                      fields["phi_p"])
        return (-ufl.dot(jn, d.grad(zn)) - ufl.dot(jp, d.grad(zp))
                + ELEMENTARY_CHARGE * self.recombination(fields) * (zp - zn))

    def terminal_heat_forms(self, ctx: Context, test=None) -> dict:
        """Heat released at each strong (ohmic) contact (W, scalar forms; with ``test`` a DG0
        test function, its cellwise contributions): minus the continuity residuals tested with
        (zeta - V) on the contact's degrees of freedom, i.e. the reaction fluxes times the
        energy each carrier brings to the metal's Fermi level. Zero without
        :class:`TransportEnergy` (zeta = phi = V there)."""
        if self.energy is None:
            return {}
        d, f = ctx.domain, ctx.fields
        jn, jp = self.current_densities(ctx, f)
        r = ELEMENTARY_CHARGE * self.recombination(f)
        q = quadrature_degree(f["phi_n"])
        w0 = 1.0 if test is None else test
        out = {}
        for facet, (wn, wp) in self.energy.terminal_tests(ctx).items():
            # minus the residuals tested with (zeta - V) w_t: the bulk heat of the cells at the
            # contact already holds these terms, the contact takes them back (docs/model.md 5a.12)
            form = (ufl.dot(jn, d.grad(wn)) + r * wn + ufl.dot(jp, d.grad(wp)) - r * wp) * w0
            out[facet] = with_quadrature(d.volume(form, *self.regions), q)
        return out

    def residual(self, ctx: Context, u: dict, v: dict) -> dict:
        """Scaled continuity equations for phi_n and phi_p (rows O(1))."""
        if "psi" not in u:
            raise ValueError("DriftDiffusion needs the 'psi' unknown (enable Poisson)")
        if self.energy is not None:
            self.energy.bind(ctx, u)
        d, sc, st = ctx.domain, self.scaling, self.stats
        # q mu n grad(phi).grad(v) / (q R0) = (mu/mu0) (L0^2/V_T) n^ grad(phi).grad(v)
        k = sc.length**2 / (sc.mobility * sc.thermal_voltage)
        n = st.n(u["psi"], u["phi_n"])
        p = st.p(u["psi"], u["phi_p"])
        r = st.srh(u["psi"], u["phi_n"], u["phi_p"]) * sc.density / sc.rate
        vol = sc.reference_volume(d)
        fn = (k * st.local("mu_n") * n * ufl.dot(d.grad(u["phi_n"]), d.grad(v["phi_n"]))
              - r * v["phi_n"])
        fp = (k * st.local("mu_p") * p * ufl.dot(d.grad(u["phi_p"]), d.grad(v["phi_p"]))
              + r * v["phi_p"])
        q = quadrature_degree(u["phi_n"])
        return {"phi_n": with_quadrature(d.volume(fn / vol, *self.regions), q),
                "phi_p": with_quadrature(d.volume(fp / vol, *self.regions), q)}

    def initial_guess(self, ctx: Context) -> dict[str, float]:
        """Thermal equilibrium with the grounded terminal: both quasi-Fermi potentials 0 V."""
        return {"phi_n": 0.0, "phi_p": 0.0}

    # -- results -------------------------------------------------------------------------------
    def _terminal_weight(self, ctx: Context, facet_group: str) -> dolfinx.fem.Function:
        """w = 1 on the terminal's degrees of freedom, 0 elsewhere."""
        d = ctx.domain
        V = ctx.fields["phi_n"].function_space
        w = dolfinx.fem.Function(V)
        dofs = dolfinx.fem.locate_dofs_topological(V, d.mesh.topology.dim - 1,
                                                   d.facet_entities(facet_group))
        w.x.array[dofs] = 1.0
        return w

    def _current_forms(self, ctx: Context, facet_group: str) -> dict:
        """Scalar forms of the electron and hole reaction fluxes (A) and the conductance (A/V)
        of the first cells at a terminal."""
        f, d = ctx.fields, ctx.domain
        w = self._terminal_weight(ctx, facet_group)
        jn, jp = self.current_densities(ctx, f)
        r = ELEMENTARY_CHARGE * self.recombination(f)
        n, p = self.densities(f)
        st = self.stats
        sigma = ELEMENTARY_CHARGE * (st.local("mu_n") * n + st.local("mu_p") * p)
        # the residual's quadrature, so that these are reactions of the discrete equations
        q = quadrature_degree(f["phi_n"])
        return {k: with_quadrature(d.volume(form, *self.regions), q) for k, form in (
            ("i_n", -ufl.dot(jn, d.grad(w)) - r * w),
            ("i_p", -ufl.dot(jp, d.grad(w)) + r * w),
            ("g", sigma * ufl.dot(d.grad(w), d.grad(w))))}

    def _scalar_forms(self, ctx: Context) -> dict:
        out = {}
        for label, terminal in zip(("anode", "cathode"), self.terminals, strict=True):
            for k, form in self._current_forms(ctx, terminal).items():
                out[f"{k}_{label}"] = form
        out["recombination"] = ctx.domain.volume(
            ELEMENTARY_CHARGE * self.recombination(ctx.fields), *self.regions)
        out["heat"] = with_quadrature(ctx.domain.volume(self.heat_density(ctx, ctx.fields),
                                                        *self.regions),
                                      quadrature_degree(ctx.fields["phi_n"]))
        for facet, form in self.terminal_heat_forms(ctx).items():
            out[f"contact_heat:{facet}"] = form
        return out

    def quantities(self, ctx: Context) -> dict[str, float]:
        """Anode and cathode currents (A, into the device), their mismatch, the currents'
        round-off resolution (A), the recombination current (A), the heat the carriers
        release in the wire (W, :meth:`heat_density`) and at each strong contact (W,
        :meth:`terminal_heat_forms`).

        The resolution: a reaction flux changes by G dphi when the quasi-Fermi potential next
        to the terminal moves by dphi, G = int q (mu_n n + mu_p p) |grad w|^2 dV being the
        conductance of the terminal's first cells. In double precision a potential of magnitude
        |phi| is known to eps |phi| only, so currents below eps max|phi| (G_anode + G_cathode)
        are not resolved (see the module docstring).
        """
        if self.energy is not None:
            self.energy.update(ctx)
        q = ctx.evaluate(f"{self.name}:{self.terminals}", lambda: self._scalar_forms(ctx))
        i_a = q["i_n_anode"] + q["i_p_anode"]
        i_c = q["i_n_cathode"] + q["i_p_cathode"]
        f = ctx.fields
        local = max(np.abs(f[k].x.array).max(initial=0.0) for k in ("phi_n", "phi_p"))
        phi_max = ctx.domain.mesh.comm.allreduce(local, op=MPI.MAX)
        resolution = np.finfo(float).eps * phi_max * (q["g_anode"] + q["g_cathode"])
        scale = max(abs(i_a), abs(i_c), np.finfo(float).tiny)
        return {"current [A]": i_a, "cathode_current [A]": -i_c,
                "current_mismatch [-]": float(abs(i_a + i_c) / scale),
                "current_resolution [A]": float(resolution),
                "recombination_current [A]": q["recombination"],
                "carrier_heat [W]": q["heat"],
                **{f"{k.split(':', 1)[1]}_contact_heat [W]": v for k, v in q.items()
                   if k.startswith("contact_heat:")}}

    def derived_fields(self, ctx: Context) -> dict[str, dict]:
        """Electron and hole current densities (A/m^2), the SRH rate (m^-3 s^-1) and the carrier
        heat (W/m^3)."""
        jn, jp = self.current_densities(ctx, ctx.fields)
        rec = self.recombination(ctx.fields)
        return {"electron_current_density [A/m^2]": {r: jn for r in self.regions},
                "hole_current_density [A/m^2]": {r: jp for r in self.regions},
                "current_density [A/m^2]": {r: jn + jp for r in self.regions},
                "srh_rate [m^-3 s^-1]": {r: rec for r in self.regions},
                "carrier_heat [W/m^3]": {r: self.heat_density(ctx, ctx.fields)
                                         for r in self.regions}}


#: Mean kinetic energy a carrier carries with its flux, in k_B T: 2 k_B T for a non-degenerate
#: gas with acoustic-phonon scattering (the (5/2 + s) k_B T of the Peltier coefficient with
#: s = -1/2), which equals the mean energy of thermionic emission over a barrier.
KINETIC_ENERGY = 2.0


class TransportEnergy:
    """The energy the carriers carry with their currents, for the Peltier heat (docs/model.md
    5a.12): an electron carries E_c + 2 k_B T, a hole (as a missing electron) E_v - 2 k_B T, so

        zeta_n = -(E_c + 2 k_B T)/q,   zeta_p = -(E_v - 2 k_B T)/q    (V),

    with the local band edges of the statistics (heterostructure, temperature field). The heat
    of :meth:`DriftDiffusion.heat_density` and of the contacts is the discrete current tested
    with these potentials; compared with zeta = phi (Joule heat alone) it moves heat between the
    bulk and the contacts, and between the two sides of a heterojunction, while the total stays
    sum V I: a carrier crossing a Schottky barrier into the metal releases Phi_B + 2 k_B T there
    (heating), one emitted from the metal takes it away (cooling).

    The potentials are nodal interpolants in the quasi-Fermi space, refreshed by :meth:`update`
    after every solve (that keeps the energy balance exact for the discrete solution).

    Args:
        stats: The carrier statistics of the semiconductor.
        strong_contacts: Facet group -> context constant of each ohmic (Dirichlet) contact.
    """

    def __init__(self, stats, strong_contacts: dict[str, str] | None = None):
        self.stats = stats
        self.strong_contacts = dict(strong_contacts or {})
        self.zeta: dict[str, dolfinx.fem.Function] = {}
        self._exprs: dict = {}
        self._tests: dict[str, tuple] = {}
        self._dofs: dict[str, np.ndarray] = {}

    def bind(self, ctx: Context, fields: dict) -> None:
        """Create the potentials in the space of ``fields["phi_n"]`` (once)."""
        if self.zeta:
            return
        V = fields["phi_n"].function_space
        st, kT = self.stats, KINETIC_ENERGY * self.stats.vt
        exprs = {"zeta_n": -(st.conduction_band_edge(fields["psi"]) + kT),
                 "zeta_p": -(st.valence_band_edge(fields["psi"]) - kT)}
        points = V.element.interpolation_points
        one = dolfinx.fem.Constant(V.mesh, 1.0)  # ties a constant expression to the mesh
        for name, e in exprs.items():
            self.zeta[name] = dolfinx.fem.Function(V, name=name)
            self._exprs[name] = dolfinx.fem.Expression(e * one, points)
        # the heat of one state asks for the potentials more than once (cell and contact heat)
        self._watch = nodal.ChangeWatch.of(*exprs.values(), constants=[
            ctx.constants[c] for c in self.strong_contacts.values()], comm=V.mesh.comm)
        fdim = ctx.domain.mesh.topology.dim - 1
        for facet in self.strong_contacts:
            self._dofs[facet] = dolfinx.fem.locate_dofs_topological(
                V, fdim, ctx.domain.facet_entities(facet))
            self._tests[facet] = (dolfinx.fem.Function(V), dolfinx.fem.Function(V))

    def potentials(self, fields: dict) -> tuple:
        """(zeta_n, zeta_p) Functions (V)."""
        if not self.zeta:
            raise RuntimeError("TransportEnergy.bind must run first (DriftDiffusion.residual)")
        return self.zeta["zeta_n"], self.zeta["zeta_p"]

    def update(self, ctx: Context) -> None:
        """Interpolate the potentials of the current state; refresh the contacts' test
        functions (zeta - V on the contact's degrees of freedom); nothing to do if neither the
        fields they depend on nor the contacts' voltages changed since the last update."""
        if not self._watch.changed():
            return
        for name, f in self.zeta.items():
            nodal.interpolate(f, self._exprs[name])
            f.x.scatter_forward()
        for facet, (wn, wp) in self._tests.items():
            V = float(ctx.constants[self.strong_contacts[facet]].value)
            dofs = self._dofs[facet]
            for w, z in ((wn, self.zeta["zeta_n"]), (wp, self.zeta["zeta_p"])):
                w.x.array[:] = 0.0
                w.x.array[dofs] = z.x.array[dofs] - V

    def terminal_tests(self, ctx: Context) -> dict[str, tuple]:
        """Facet -> (w_n, w_p) test Functions of the strong contacts (see :meth:`update`)."""
        return self._tests
