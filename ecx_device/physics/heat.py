"""Steady heat conduction (model.md 3.1).

    -div( k(T) grad T ) = Q                      in all regions,
    T = T_sink                                   on the far faces of the Cu and W electrodes,
    -k dT/dn = eps sigma_SB (T^4 - T_amb^4)      on the free wire surface (radiation),
    -k dT/dn = 0                                 on the other electrode surfaces.

k [W/(m K)] per region from the materials database; the sources Q [W/m^3] are added by the modules
that dissipate (e.g. the Joule heat of :mod:`ecx_device.physics.ohmic`).
"""

from __future__ import annotations

import numpy as np

from ecx_device.device.names import Facet, Region
from ecx_device.fem import dolfinx, ufl
from ecx_device.physics.base import Context, Dirichlet
from ecx_device.units import STEFAN_BOLTZMANN


class HeatConduction:
    """Fourier conduction with heat-sink and radiation boundaries, for ``T`` (K)."""

    name = "heat"
    unknowns = ("T",)

    def residual(self, ctx: Context, u: dict, v: dict) -> dict:
        """Conduction plus radiative loss from the wire surface."""
        d, T, vT = ctx.domain, u["T"], v["T"]
        F = sum(d.volume(ctx.property(r, "thermal_conductivity")
                         * ufl.dot(d.grad(T), d.grad(vT)), r) for r in ctx.regions())
        return {"T": F + d.surface(self.radiative_flux(ctx) * vT, Facet.WIRE_SURFACE)}

    def radiative_flux(self, ctx: Context):
        """Net radiated heat flux density (W/m^2) of the wire surface."""
        c = ctx.constants
        T = ctx.temperature()
        return c["emissivity"] * STEFAN_BOLTZMANN * (T**4 - c["radiation_temperature"] ** 4)

    def dirichlet(self, ctx: Context) -> list[Dirichlet]:
        """Both electrode far faces at the heat-sink temperature."""
        T0 = ctx.constants["heat_sink_temperature"]
        return [Dirichlet("T", Facet.CU_SINK, T0), Dirichlet("T", Facet.W_SINK, T0)]

    def initial_guess(self, ctx: Context) -> dict[str, float]:
        """Start at the heat-sink temperature."""
        return {"T": float(ctx.constants["heat_sink_temperature"].value)}

    def quantities(self, ctx: Context) -> dict[str, float]:
        """Peak and mean wire temperature, where the peak sits, and the radiated power."""
        d = ctx.domain
        T = ctx.fields["T"]
        V = T.function_space
        dofs = np.unique(V.dofmap.list[d.region_cells(Region.WIRE)])
        n_owned = V.dofmap.index_map.size_local
        dofs = dofs[dofs < n_owned]
        x = V.tabulate_dof_coordinates()
        local = (T.x.array[dofs].max(), dofs[np.argmax(T.x.array[dofs])]) if len(dofs) else None
        candidates = d.mesh.comm.allgather(None if local is None else
                                           (local[0], x[local[1], : d.gdim].tolist()))
        t_max, pos = max((c for c in candidates if c is not None), key=lambda c: c[0])
        q = ctx.evaluate(self.name, lambda: {
            "volume": d.volume(dolfinx.fem.Constant(d.mesh, 1.0), Region.WIRE),
            "T_volume": d.volume(T, Region.WIRE),
            "radiated": d.surface(self.radiative_flux(ctx), Facet.WIRE_SURFACE)})
        t_mean = q["T_volume"] / q["volume"]
        radiated = q["radiated"]
        return {"wire_T_max [K]": float(t_max), "wire_T_mean [K]": t_mean,
                "wire_T_max_axial_position [nm]": float(pos[d.axial_index]),
                "radiated_power [W]": radiated}


class HeatSource:
    """A given heat source (W/m^3) in the wire, e.g. the carrier heat of the drift-diffusion wire
    computed on its own mesh and handed over cellwise (:mod:`ecx_device.solvers.fixed_point`).

    Args:
        density: The source density (W/m^3), a Function (DG0) on this mesh, updated in place.
    """

    name = "heat_source"
    unknowns = ()

    def __init__(self, density):
        self.density = density

    def residual(self, ctx: Context, u: dict, v: dict) -> dict:
        """-int Q v_T dV over the wire."""
        return {"T": -ctx.domain.volume(self.density * v["T"], Region.WIRE)} if "T" in v else {}

    def quantities(self, ctx: Context) -> dict[str, float]:
        """The power of the source (W)."""
        q = ctx.evaluate(self.name, lambda: {
            "power": ctx.domain.volume(self.density, Region.WIRE)})
        return {"wire_heat_source [W]": q["power"]}

    def derived_fields(self, ctx: Context) -> dict[str, dict]:
        """The source density (W/m^3)."""
        return {"heat_source [W/m^3]": {Region.WIRE: self.density}}
