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

from ecx_device.device.names import Facet, Region
from ecx_device.fem import dolfinx, ufl
from ecx_device.physics.base import Context, Dirichlet


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
        return [Dirichlet("phi", Facet.CU_SINK, ctx.constants["bias"]),
                Dirichlet("phi", Facet.W_SINK, ctx.constants["ground"])]

    def initial_guess(self, ctx: Context) -> dict[str, float]:
        """Start from zero potential."""
        return {"phi": 0.0}

    def _terminal_indicator(self, ctx: Context, facet_group: str) -> dolfinx.fem.Function:
        """1 on the degrees of freedom of a terminal, 0 elsewhere."""
        V = ctx.fields["phi"].function_space
        w = dolfinx.fem.Function(V)
        dofs = dolfinx.fem.locate_dofs_topological(V, ctx.domain.mesh.topology.dim - 1,
                                                   ctx.domain.facet_entities(facet_group))
        w.x.array[dofs] = 1.0
        return w

    def _scalar_forms(self, ctx: Context) -> dict:
        d = ctx.domain
        grad_phi = d.grad(ctx.fields["phi"])

        def current_into(facet_group: str):
            # Reaction flux: int sigma grad(phi).grad(w) dV equals the boundary current for the
            # discrete solution, with no gradient evaluated on the boundary.
            w = self._terminal_indicator(ctx, facet_group)
            return sum(d.volume(self._sigma(ctx, r) * ufl.dot(grad_phi, d.grad(w)), r)
                       for r in ctx.regions())

        def joule(regions):
            return sum(d.volume(self._sigma(ctx, r) * ufl.dot(grad_phi, grad_phi), r)
                       for r in regions)

        return {"i_cu": current_into(Facet.CU_SINK), "i_w": current_into(Facet.W_SINK),
                "power": joule(ctx.regions()), "wire_power": joule([Region.WIRE])}

    def quantities(self, ctx: Context) -> dict[str, float]:
        """Terminal currents (A, into the device), their mismatch and the Joule power (W)."""
        q = ctx.evaluate(self.name, lambda: self._scalar_forms(ctx))
        i_cu, i_w = q["i_cu"], q["i_w"]
        scale = max(abs(i_cu), abs(i_w), np.finfo(float).tiny)
        return {"current [A]": i_cu, "cathode_current [A]": -i_w,
                "current_mismatch [-]": abs(i_cu + i_w) / scale,
                "joule_power [W]": q["power"], "wire_joule_power [W]": q["wire_power"]}

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

