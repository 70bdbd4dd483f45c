"""Electrostatics of a semiconductor with Boltzmann carriers (model.md 3.2).

    -div( eps grad psi ) = q (p - n + N_D - N_A + rho_f)    in the semiconductor regions,
    n = n_i exp((psi - phi_n)/V_T),  p = n_i exp((phi_p - psi)/V_T),

psi [V] the electrostatic potential referred to the intrinsic level, eps [F/m], densities [m^-3];
rho_f [m^-3] an optional fixed charge density in units of the elementary charge (the ions of the
exchange, :func:`ecx_device.physics.exchange.ionic_charge_density`), frozen during the solve.
The quasi-Fermi potentials are the ``phi_n`` / ``phi_p`` unknowns of
:class:`ecx_device.physics.carriers.DriftDiffusion` when that module is enabled, otherwise frozen
values given here (0 V: thermal equilibrium, i.e. the nonlinear Poisson-Boltzmann equation).
No boundary term is added: surfaces without a contact are charge-free (eps dpsi/dn = 0); contacts
(:mod:`ecx_device.physics.contacts`) fix psi.

The residual is scaled by 1/(q C_0 Omega_0) (:mod:`ecx_device.physics.semiconductor_scaling`), so
its rows are O(1): -div^ grad^ psi^ = p^ - n^ + N^ with the Debye length of C_0 as unit length.
"""

from __future__ import annotations

import numpy as np

from ecx_device.device.names import Region
from ecx_device.fem import MPI, dolfinx, ufl
from ecx_device.physics.base import Context
from ecx_device.physics.lumped import LumpedTerm
from ecx_device.physics.semiconductor_scaling import (
    SemiconductorParameters,
    interpolate_expression,
    quadrature_degree,
    statistics_for,
    with_quadrature,
)
from ecx_device.units import ELEMENTARY_CHARGE, MESH_UNIT


class Poisson:
    """Poisson's equation for ``psi`` (V) with Boltzmann electrons and holes.

    Args:
        params: Semiconductor data (permittivity, n_i, doping).
        regions: Cell regions filled by this semiconductor.
        frozen_phi_n: Electron quasi-Fermi potential (V, number or UFL) used when ``phi_n`` is
            not an unknown.
        frozen_phi_p: Hole quasi-Fermi potential (V) used when ``phi_p`` is not an unknown.
        fixed_charge: Fixed charge density rho_f (elementary charges per m^3, UFL or number),
            or a callable of the fields (name -> Function) giving it, for a charge carried by
            unknowns of the same problem (the ions of the monolithic exchange step).
        lumped: Integrate the carrier charge p - n with the vertex rule (mass lumping), as the
            box method does; the doping keeps the residual's quadrature, so a doping step on a
            cell boundary gives each node its control-volume average. Used with the fitted
            carrier fluxes (:mod:`ecx_device.physics.carriers_fitted`), with which a 1D mesh
            then gives the classical Scharfetter-Gummel box scheme. With P1 unknowns the
            lumped charge's Jacobian is then evaluated at the nodes
            (:mod:`ecx_device.physics.lumped`, hook ``assembled_terms``).
    """

    name = "poisson"
    unknowns = ("psi",)

    def __init__(self, params: SemiconductorParameters,
                 regions: tuple[str, ...] = (Region.WIRE,), frozen_phi_n=0.0,
                 frozen_phi_p=0.0, fixed_charge=None, lumped: bool = False):
        self.params, self.regions, self.lumped = params, tuple(regions), bool(lumped)
        self.stats = statistics_for(params)
        self.scaling = self.stats.scaling
        self.frozen = {"phi_n": frozen_phi_n, "phi_p": frozen_phi_p}
        self.fixed_charge = fixed_charge
        self._step = None  # (context, DG0 function, compiled expression) of quantities()
        self._lumped_term: LumpedTerm | None = None

    def _phi(self, fields: dict, name: str):
        return fields[name] if name in fields else self.frozen[name]

    def space_charge(self, ctx: Context, fields: dict):
        """Scaled space charge (p - n + N_D - N_A + rho_f) / C_0 (-) for the given fields."""
        psi = fields["psi"]
        st = self.stats
        net = self.stats.net_doping(ctx.domain.position())
        if self.fixed_charge is not None:
            rho = self.fixed_charge
            # a UFL expression is callable too (point evaluation): test for it first
            of_fields = callable(rho) and not isinstance(rho, ufl.core.expr.Expr)
            net = net + (rho(fields) if of_fields else rho)
        net = net / self.scaling.density
        return (st.p(psi, self._phi(fields, "phi_p")) - st.n(psi, self._phi(fields, "phi_n"))
                + net)

    def residual(self, ctx: Context, u: dict, v: dict) -> dict:
        """Scaled Gauss law: int eps grad psi . grad v - q (p - n + N) v dV, / (q C0 Omega0)."""
        d = ctx.domain
        sc = self.scaling
        # eps / (q C0) (m^2/V) so that both terms are densities / C0
        coef = self.stats.permittivity / (ELEMENTARY_CHARGE * sc.density)
        vol = sc.reference_volume(d)
        q = quadrature_degree(u["psi"])
        if not self.lumped:
            form = (coef * ufl.dot(d.grad(u["psi"]), d.grad(v["psi"]))
                    - self.space_charge(ctx, u) * v["psi"])
            return {"psi": with_quadrature(d.volume(form / vol, *self.regions), q)}
        net = self.stats.net_doping(d.position()) / sc.density
        carriers = self.space_charge(ctx, u) - net
        form = coef * ufl.dot(d.grad(u["psi"]), d.grad(v["psi"])) - net * v["psi"]
        if u["psi"].function_space.ufl_element().embedded_superdegree == 1:
            self._lumped_term = LumpedTerm(d, -carriers / vol, {"psi": 1.0}, u, v, self.regions)
            charge = self._lumped_term.form["psi"]
        else:
            charge = d.volume(-carriers * v["psi"] / vol, *self.regions, lumped=True)
        return {"psi": with_quadrature(d.volume(form / vol, *self.regions), q) + charge}

    def assembled_terms(self, ctx: Context) -> LumpedTerm | None:
        """The nodal Jacobian of the lumped carrier charge (P1, ``lumped``), else None (hook of
        :class:`ecx_device.solvers.newton.CoupledProblem`)."""
        return self._lumped_term

    def initial_guess(self, ctx: Context) -> dict:
        """Charge-neutral potential V_T asinh(N / 2 n_i) at every node (quasi-Fermi levels at 0).

        A uniform start would put the first Newton step through exponentials of tens of V_T.
        """
        V = ctx.fields["psi"].function_space
        frozen = self.frozen["phi_n"]
        # with frozen uniform quasi-Fermi levels the neutral potential moves with them
        uniform = "phi_n" not in ctx.fields and isinstance(frozen, int | float)
        phi0 = float(frozen) if uniform else 0.0
        return {"psi": interpolate_expression(
            self.stats.neutral_potential(ctx.domain.position()) + phi0, V)}

    def quantities(self, ctx: Context) -> dict[str, float]:
        """Largest potential step across one cell, h |grad psi| / V_T (-).

        The quasi-Fermi Galerkin discretisation of the carriers needs it below ~1 (see
        :mod:`ecx_device.physics.carriers`, "Mesh resolution").
        """
        d = ctx.domain
        regions = [r for r in self.regions if d.has_region(r)]
        if not regions:
            return {}
        if self._step is None or self._step[0] is not ctx:  # compile once per context
            V0 = dolfinx.fem.functionspace(d.mesh, ("DG", 0))
            grad = d.grad(ctx.fields["psi"])
            step = (ufl.CellDiameter(d.mesh) * MESH_UNIT * ufl.sqrt(ufl.dot(grad, grad))
                    / self.scaling.thermal_voltage)
            self._step = (ctx, dolfinx.fem.Function(V0),
                          dolfinx.fem.Expression(step, V0.element.interpolation_points))
        _, f, expr = self._step
        V0 = f.function_space
        f.interpolate(expr)
        cells = np.concatenate([d.region_cells(r) for r in regions])
        local = float(f.x.array[V0.dofmap.list[cells].ravel()].max(initial=0.0))
        return {"max_cell_potential_step [V_T]": d.mesh.comm.allreduce(local, op=MPI.MAX)}

    def point_fields(self, ctx: Context) -> dict:
        """Band diagram (eV, energies with E_i = -q psi): E_c = -psi + V_T ln(N_c/n_i),
        E_v = -psi - V_T ln(N_v/n_i) (in a heterostructure the local edges of
        :class:`CarrierStatistics`), and the quasi-Fermi levels E_Fn = -phi_n, E_Fp = -phi_p."""
        f, st = ctx.fields, self.stats
        psi = f["psi"]
        out = {"conduction_band_edge [eV]": st.conduction_band_edge(psi),
               "valence_band_edge [eV]": st.valence_band_edge(psi)}
        for name, label in (("phi_n", "electron"), ("phi_p", "hole")):
            if name in f:
                out[f"{label}_quasi_fermi_level [eV]"] = -f[name]
        return out

    def derived_fields(self, ctx: Context) -> dict:
        """Electron and hole densities (m^-3)."""
        f = ctx.fields
        C0 = self.scaling.density
        n = C0 * self.stats.n(f["psi"], self._phi(f, "phi_n"))
        p = C0 * self.stats.p(f["psi"], self._phi(f, "phi_p"))
        return {"electron_density [m^-3]": {r: n for r in self.regions},
                "hole_density [m^-3]": {r: p for r in self.regions}}
