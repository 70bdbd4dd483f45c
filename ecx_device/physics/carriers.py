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

from ecx_device.device.names import Facet, Region
from ecx_device.fem import MPI, dolfinx, ufl
from ecx_device.physics.base import Context
from ecx_device.physics.semiconductor_scaling import (
    SemiconductorParameters,
    quadrature_degree,
    statistics_for,
    with_quadrature,
)
from ecx_device.units import ELEMENTARY_CHARGE


class DriftDiffusion:
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
                 terminals: tuple[str, str] = (Facet.CU_SINK, Facet.W_SINK)):
        self.params, self.regions, self.terminals = params, tuple(regions), tuple(terminals)
        self.stats = statistics_for(params)
        self.scaling = self.stats.scaling

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

            H = q mu_n n |grad phi_n|^2 + q mu_p p |grad phi_p|^2 + q R (phi_p - phi_n),

        the Joule heat -(J_n . grad phi_n + J_p . grad phi_p) plus the energy q (phi_p - phi_n)
        that each recombining pair gives up. Tested with phi_n and phi_p, the discrete continuity
        equations make its integral plus the Schottky contacts' heat equal to the electrical power
        sum_terminals V I exactly (``tests/verification/test_self_heating.py``). Thermoelectric
        (Peltier, Thomson) heat is not included.
        """
        jn, jp = self.current_densities(ctx, fields)
        d, f = ctx.domain, fields
        return (-ufl.dot(jn, d.grad(f["phi_n"])) - ufl.dot(jp, d.grad(f["phi_p"]))
                + ELEMENTARY_CHARGE * self.recombination(f) * (f["phi_p"] - f["phi_n"]))

    def residual(self, ctx: Context, u: dict, v: dict) -> dict:
        """Scaled continuity equations for phi_n and phi_p (rows O(1))."""
        if "psi" not in u:
            raise ValueError("DriftDiffusion needs the 'psi' unknown (enable Poisson)")
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
        return out

    def quantities(self, ctx: Context) -> dict[str, float]:
        """Anode and cathode currents (A, into the device), their mismatch, the currents'
        round-off resolution (A), the recombination current (A) and the heat the carriers
        release in the wire (W, :meth:`heat_density`).

        The resolution: a reaction flux changes by G dphi when the quasi-Fermi potential next
        to the terminal moves by dphi, G = int q (mu_n n + mu_p p) |grad w|^2 dV being the
        conductance of the terminal's first cells. In double precision a potential of magnitude
        |phi| is known to eps |phi| only, so currents below eps max|phi| (G_anode + G_cathode)
        are not resolved (see the module docstring).
        """
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
                "carrier_heat [W]": q["heat"]}

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
