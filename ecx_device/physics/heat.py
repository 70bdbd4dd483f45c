"""Steady heat conduction (model.md 3.1).

    -div( k(T) grad T ) = Q                      in all regions,
    T = T_sink                                   on the far faces of the Cu and W electrodes,
    -k dT/dn = eps sigma_SB (T^4 - T_amb^4)      on the free wire surface (radiation),
    -k dT/dn = 0                                 on the other electrode surfaces,
    q.n = G (T_metal - T_wire)                   across a metal|wire interface with a finite
                                                 thermal boundary conductance G (model.md 3.1b).

k [W/(m K)] per region from the materials database; the sources Q [W/m^3] are added by the modules
that dissipate (e.g. the Joule heat of :mod:`ecx_device.physics.ohmic`, the electron beam of
:class:`BeamHeating`).

The temperature jump of a finite G is carried by the contact layer of the mesh (device/names.py
LAYERS): the metal within t of the interface, whose conductivity is lowered to
k_t = k / (1 + k / (G t)), so that its thermal resistance per area, t/k_t = t/k + 1/G, is the
metal's own plus the interface's. The temperature stays one continuous P1/P2 field; the jump
T_wire - T_metal = q.n / G appears across the layer. In 1D the metals are lumped into the sink
points, and the interface becomes a Robin condition there: -k dT/dn = G (T - T_sink).
"""

from __future__ import annotations

import numpy as np

from ecx_device.device.names import Facet, Region
from ecx_device.fem import dolfinx, ufl
from ecx_device.physics.base import Context, Dirichlet
from ecx_device.units import STEFAN_BOLTZMANN


#: Context constant holding each interface's thermal boundary conductance G (W m^-2 K^-1);
#: a constant absent from the context means a perfect thermal contact (continuous T).
CONDUCTANCE_CONSTANTS: dict[str, str] = {Facet.CU_WIRE: "cu_wire_boundary_conductance",
                                         Facet.W_WIRE: "w_wire_boundary_conductance"}
#: In 1D the metals are lumped into the sink points: where each interface's G applies.
LUMPED_INTERFACE: dict[str, str] = {Facet.CU_WIRE: Facet.CU_SINK, Facet.W_WIRE: Facet.W_SINK}


class HeatConduction:
    """Fourier conduction with heat-sink and radiation boundaries, for ``T`` (K), and the thermal
    boundary conductance of the metal|wire interfaces given in the context's constants
    (:data:`CONDUCTANCE_CONSTANTS`)."""

    name = "heat"
    unknowns = ("T",)

    def residual(self, ctx: Context, u: dict, v: dict) -> dict:
        """Conduction plus radiative loss from the wire surface (and, in 1D, the lumped
        contacts' conductance)."""
        d, T, vT = ctx.domain, u["T"], v["T"]
        F = sum(d.volume(self.conductivity(ctx, r) * ufl.dot(d.grad(T), d.grad(vT)), r)
                for r in ctx.regions())
        T0 = ctx.constants["heat_sink_temperature"]
        for interface, G in self._conductances(ctx).items():
            if self._lumped(ctx, interface):  # lumped metal at T_sink behind the interface
                F += d.surface(G * (T - T0) * vT, LUMPED_INTERFACE[interface])
        return {"T": F + d.surface(self.radiative_flux(ctx) * vT, Facet.WIRE_SURFACE)}

    def conductivity(self, ctx: Context, region: str):
        """Thermal conductivity (W/(m K)) of ``region``, lowered in the contact layers to
        k / (1 + k r) with r = 1/(G t) (m K/W) the interface's resistance per layer thickness."""
        k = ctx.property(region, "thermal_conductivity")
        d = ctx.domain
        if region == Region.WIRE:
            return k
        resistivity = 0
        for interface, G in self._conductances(ctx).items():
            if self._lumped(ctx, interface):
                continue
            layer = d.layer_indicator(interface)
            if layer is None or not d.layer_thickness > 0:
                raise ValueError(f"{CONDUCTANCE_CONSTANTS[interface]} is set but the mesh has "
                                 f"no {interface} contact layer; expected a mesh with "
                                 "contact_layer_thickness > 0 (device/geometry.py)")
            resistivity = resistivity + layer / (G * d.layer_thickness)
        return k if isinstance(resistivity, int) else k / (1 + k * resistivity)

    @staticmethod
    def _lumped(ctx: Context, interface: str) -> bool:
        """True where a 1D wire's metal is lumped into its sink point (no layer meshed)."""
        return ctx.domain.dimension == "1d" and ctx.domain.layer_indicator(interface) is None

    @staticmethod
    def _conductances(ctx: Context) -> dict:
        """Interface facet group -> its G (a Constant, W m^-2 K^-1), finite ones only."""
        return {f: ctx.constants[key] for f, key in CONDUCTANCE_CONSTANTS.items()
                if key in ctx.constants}

    def radiative_flux(self, ctx: Context):
        """Net radiated heat flux density (W/m^2) of the wire surface."""
        c = ctx.constants
        T = ctx.temperature()
        return c["emissivity"] * STEFAN_BOLTZMANN * (T**4 - c["radiation_temperature"] ** 4)

    def dirichlet(self, ctx: Context) -> list[Dirichlet]:
        """Both electrode far faces at the heat-sink temperature (in 1D, a sink behind a finite
        boundary conductance is a Robin condition instead, see :meth:`residual`)."""
        T0 = ctx.constants["heat_sink_temperature"]
        robin = {LUMPED_INTERFACE[f] for f in self._conductances(ctx) if self._lumped(ctx, f)}
        return [Dirichlet("T", sink, T0) for sink in (Facet.CU_SINK, Facet.W_SINK)
                if sink not in robin]

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


class BeamHeating:
    """The electron beam's heating of the wire as a uniform volumetric source (W/m^3): the
    power the beam deposits per unit volume (``thermal.beam_heating``; docs/model.md 3.1c).

    Args:
        power_density: Deposited power per wire volume (W/m^3), >= 0.
    """

    name = "beam_heating"
    unknowns = ()

    def __init__(self, power_density: float):
        self.power_density = float(power_density)
        self._constant = None

    def _density(self, ctx: Context):
        if self._constant is None:
            self._constant = dolfinx.fem.Constant(ctx.domain.mesh, self.power_density)
        return self._constant

    def residual(self, ctx: Context, u: dict, v: dict) -> dict:
        """-int Q_beam v_T dV over the wire."""
        if "T" not in v:
            return {}
        return {"T": -ctx.domain.volume(self._density(ctx) * v["T"], Region.WIRE)}

    def quantities(self, ctx: Context) -> dict[str, float]:
        """The power the beam deposits in the wire (W)."""
        q = ctx.evaluate(self.name, lambda: {
            "power": ctx.domain.volume(self._density(ctx), Region.WIRE)})
        return {"beam_heating_power [W]": q["power"]}
