"""Current continuity in ohmic conductors (model.md 3.1, first stage).

    -div( sigma(T) grad phi ) = 0            in the metals and (for now) the wire,
    phi = V_bias on the Cu far face,  phi = 0 on the W far face,  no current elsewhere.

sigma [S/m] per region from the materials database, at the local temperature. The Joule heat
sigma |grad phi|^2 [W/m^3] is added to the heat equation when temperature is solved.

Terminal currents are computed as reaction fluxes, I = int sigma grad(phi) . grad(w) dV with w = 1
on the terminal's degrees of freedom and 0 elsewhere: for the discrete solution this equals the
conservative boundary flux, so anode and cathode currents agree to solver tolerance.
"""

from __future__ import annotations

import numpy as np

from ecx_device import geometry as geo
from ecx_device.fem import dolfinx, ufl
from ecx_device.physics.base import Context, Dirichlet, integrate


class OhmicConduction:
    """Ohmic current continuity for the potential ``phi`` (V)."""

    name = "ohmic"
    unknowns = ("phi",)

    def _sigma(self, ctx: Context, region: str):
        return ctx.property(region, "electrical_conductivity")

    def residual(self, ctx: Context, u: dict, v: dict) -> dict:
        """Current continuity, plus the Joule source in the heat equation."""
        d = ctx.domain
        grad_phi = d.grad(u["phi"])
        out = {"phi": sum(d.volume(self._sigma(ctx, r) * ufl.dot(grad_phi, d.grad(v["phi"])), r)
                          for r in ctx.regions())}
        if "T" in v:
            out["T"] = -sum(d.volume(self._sigma(ctx, r) * ufl.dot(grad_phi, grad_phi) * v["T"], r)
                            for r in ctx.regions())
        return out

    def dirichlet(self, ctx: Context) -> list[Dirichlet]:
        """Bias on the Cu terminal, ground on the W terminal."""
        return [Dirichlet("phi", geo.Facet.CU_SINK, ctx.constants["bias"]),
                Dirichlet("phi", geo.Facet.W_SINK, ctx.constants["ground"])]

    def initial_guess(self, ctx: Context) -> dict[str, float]:
        """Start from zero potential."""
        return {"phi": 0.0}

    def terminal_current(self, ctx: Context, facet_group: str) -> float:
        """Current (A) flowing into the device through a terminal, as a reaction flux."""
        phi = ctx.fields["phi"]
        V = phi.function_space
        d = ctx.domain
        w = dolfinx.fem.Function(V)
        dofs = dolfinx.fem.locate_dofs_topological(V, d.mesh.topology.dim - 1,
                                                   d.facet_entities(facet_group))
        w.x.array[dofs] = 1.0
        form = sum(d.volume(self._sigma(ctx, r) * ufl.dot(d.grad(phi), d.grad(w)), r)
                   for r in ctx.regions())
        return integrate(form, d.mesh.comm)

    def quantities(self, ctx: Context) -> dict[str, float]:
        """Terminal currents, their mismatch and the Joule power."""
        d = ctx.domain
        i_cu = self.terminal_current(ctx, geo.Facet.CU_SINK)
        i_w = self.terminal_current(ctx, geo.Facet.W_SINK)
        grad_phi = d.grad(ctx.fields["phi"])
        power = integrate(sum(d.volume(self._sigma(ctx, r) * ufl.dot(grad_phi, grad_phi), r)
                              for r in ctx.regions()), d.mesh.comm)
        wire_power = integrate(d.volume(self._sigma(ctx, geo.Region.WIRE) * ufl.dot(grad_phi, grad_phi),
                                        geo.Region.WIRE), d.mesh.comm)
        scale = max(abs(i_cu), abs(i_w), np.finfo(float).tiny)
        return {"current [A]": i_cu, "cathode_current [A]": -i_w,
                "current_mismatch [-]": abs(i_cu + i_w) / scale,
                "joule_power [W]": power, "wire_joule_power [W]": wire_power}

    def derived_fields(self, ctx: Context) -> dict[str, dict]:
        """Current density (A/m^2) and Joule heat density (W/m^3) per region."""
        d = ctx.domain
        grad_phi = d.grad(ctx.fields["phi"])
        return {
            "current_density [A/m^2]": {r: -self._sigma(ctx, r) * grad_phi for r in ctx.regions()},
            "joule_heat [W/m^3]": {r: self._sigma(ctx, r) * ufl.dot(grad_phi, grad_phi)
                                   for r in ctx.regions()},
            "electrical_conductivity [S/m]": {r: self._sigma(ctx, r) for r in ctx.regions()},
        }

