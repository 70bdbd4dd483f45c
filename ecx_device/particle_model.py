"""The particle model: the front kinetics on a sphere or rod without electrodes
(``geometry.particle``, ``exchange.kinetics: front``; docs/model.md 8.8).

A nanocrystal in a bath (Han, Yao & Robinson 2021) or a wire on a heated grid touched by donor
crystals (Casu et al. 2023) carries no current and sits at the set temperature
(``thermal.heat_sink_temperature``). The electro-thermal side is therefore a held temperature
(:class:`~ecx_device.solvers.isothermal.FixedTemperature`), and the exchange splitting advances
the guest and X of :class:`~ecx_device.physics.front_kinetics.FrontExchange` on the particle.
:func:`build_particle` makes the pieces; :mod:`ecx_device.models` (the one model switch) joins
them into a run's model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ecx_device.case.schema import Case
from ecx_device.device.geometry import ParticleGeometry
from ecx_device.device.names import Facet, Region, donor_facet
from ecx_device.fem import dolfinx
from ecx_device.materials import Material
from ecx_device.mesh import Domain
from ecx_device.physics.base import Context, integrate
from ecx_device.physics.front_kinetics import BathSurface, DonorContact, FrontExchange, FrontOutput
from ecx_device.solvers.isothermal import FixedTemperature
from ecx_device.solvers.newton import CoupledProblem
from ecx_device.solvers.splitting import ExchangeSplitting, FieldLink, StepLimits
from ecx_device.units import MESH_UNIT

#: Newton options of the ion step (as for the bulk kinetics, models.ION_PETSC_OPTIONS): judged
#: on the residual, which is ~1e-25 in SI for a nanocrystal.
PARTICLE_PETSC_OPTIONS = {"snes_rtol": 1e-11, "snes_atol": 0.0, "snes_stol": 1e-14}


@dataclass
class ParticleParts:
    """What :func:`build_particle` makes: the context, the held temperature, the splitting and
    the output context and modules of the field series."""

    ctx: Context
    electrical: FixedTemperature
    splitting: ExchangeSplitting
    output_ctx: Context
    output_modules: list


class ParticleSplitting(ExchangeSplitting):
    """The exchange splitting with the particle's own scalars: the equivalent shell thickness of
    a sphere (the shell holding the exchanged volume), or the exchanged length of a rod (the
    exchanged volume over the cross-section)."""

    geometry: ParticleGeometry

    def quantities(self) -> dict[str, float]:
        """The splitting's scalars plus the particle's (nm)."""
        row = super().quantities()
        g, V = self.geometry, row["exchanged_volume [nm^3]"]
        if g.shape == "sphere":
            core = max(g.radius**3 - 3.0 * V / (4.0 * math.pi), 0.0)
            row["shell_thickness [nm]"] = g.radius - core ** (1.0 / 3.0)
        else:
            row["exchanged_length [nm]"] = V / (math.pi * g.radius**2)
        return row


def _sources(case: Case, geom: ParticleGeometry, domain: Domain, site_density: float):
    """The donor contacts or the bath surface. A contact's area (m^2) is measured with the
    lumped quadrature of its entry law, so that a contact of n entry sites admits exactly n
    channels' worth whatever the triangles next to it (that quadrature takes r at the adjacent
    cell's centroid, a few % off on a small disk); by default n = n_s x the exact area."""
    if case.exchange.cu_source == "bath":
        return (), BathSurface(Facet.WIRE_SURFACE, case.exchange.bath.concentration)
    one = dolfinx.fem.Constant(domain.mesh, 1.0)
    n_s = site_density ** (2.0 / 3.0)

    def area(facet: str, lumped: bool) -> float:
        return integrate(domain.surface(one, facet, lumped=lumped), domain.mesh.comm)

    donors = tuple(DonorContact(donor_facet(i), area(donor_facet(i), True),
                                d.entry_sites or n_s * area(donor_facet(i), False))
                   for i, d in enumerate(geom.donors))
    return donors, None


def seed_distance(geom: ParticleGeometry, x: np.ndarray) -> np.ndarray:
    """Distance (nm) of mesh points ``x`` (3 x n) from where the exchange starts: the nearest
    donor contact's centre (an end-face centre, or the circle of a side band), or, in a bath,
    the surface."""
    if geom.dimension == "1d":
        r, z = np.zeros_like(x[0]), x[0]
    else:
        r, z = x[0], x[1]
    R = geom.radius
    if not geom.donors:
        if geom.shape == "sphere":
            return R - np.hypot(r, z)
        return np.minimum.reduce([R - r, z, geom.length - z]) if geom.dimension != "1d" \
            else np.minimum(z, geom.length - z)
    dist = []
    for d in geom.donors:
        if d.at == "side":
            dist.append(np.hypot(R - r, z - d.z))
        else:
            dist.append(np.hypot(r, z - (geom.length if d.at == "top" else 0.0)))
    return np.minimum.reduce(dist)


def build_particle(case: Case, geom: ParticleGeometry, domain: Domain,
                   materials: dict[str, Material], exchanged: Material,
                   mesh_scale: float = 1.0) -> ParticleParts:
    """The front kinetics on ``domain`` (the meshed particle) with a held temperature.

    The initial state is a product seed (X = 1/(1 + exp((d - s)/delta)), d from
    :func:`seed_distance`, s = ``exchange.seed_size``) with the guest at c_eq everywhere, so
    that nothing moves before the source delivers guest (docs/model.md 8.8). In smoke runs the
    reaction zone widens with the mesh (``mesh_scale``).
    """
    ex, T = case.exchange, case.thermal.heat_sink_temperature
    host = materials[Region.WIRE]
    domain.extra["elements"] = {"host": host.cation, "guest": exchanged.cation}
    ctx = Context.create(domain, {Region.WIRE: host}, heat_sink_temperature=T)
    ctx.exchanged = {Region.WIRE: exchanged}
    delta = ex.reaction_zone_width * mesh_scale
    site_density = float(host("sulfur_site_density", T))
    donors, bath = _sources(case, geom, domain, site_density)
    module = FrontExchange(host, exchanged, site_density, delta, donors=donors, bath=bath)
    s = case.solver
    ions = CoupledProblem(ctx, [module], degree=1, tolerance=1e-15,
                          max_iterations=s.newton_max_iterations,
                          petsc_options={**PARTICLE_PETSC_OPTIONS, **s.petsc_options})
    seed, width = (ex.seed_size or 3 * delta) / MESH_UNIT, delta / MESH_UNIT
    ions.u["X"].interpolate(lambda x: 1.0 / (1.0 + np.exp(np.clip(
        (seed_distance(geom, x) - seed) / width, -200, 200))))
    ions.u["c"].x.array[:] = module.equilibrium_value(T)
    electrical = FixedTemperature(ctx)
    link = FieldLink(lambda: None, lambda X, c, v: None, ctx.constants["heat_sink_temperature"])
    # no electrical model: the ions' charge acts on nothing, so it does not limit the step
    limits = StepLimits(max_fraction_change=ex.max_fraction_change,
                        time_error_tolerance=ex.time_error_tolerance,
                        max_temperature_change=ex.max_temperature_change, ionic_charge=False)
    splitting = ParticleSplitting(electrical, ions, module, link, limits)
    splitting.geometry = geom
    out = Context.create(domain, {Region.WIRE: host}, heat_sink_temperature=T)
    out.exchanged, out.composition = ctx.exchanged, ions.u["X"]
    return ParticleParts(ctx, electrical, splitting, out,
                         [FrontOutput(module, ions.u["c"], ions.u["X"])])
