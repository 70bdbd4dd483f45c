"""From the case file to the device: the mesher's geometry (nm) and the material of each region.

Both are cheap (no gmsh, no DOLFINx), so ``ecx-device check`` and ``sweep`` use them to reject a
bad case before anything is meshed or solved.
"""

from __future__ import annotations

import math
import re

from ecx_device.case.schema import Case
from ecx_device.composition import CompositionProfile
from ecx_device.device.geometry import (FRONT_BAND_WIDTHS, DeviceGeometry, ParticleDonor,
                                        ParticleGeometry)
from ecx_device.device.names import Facet, Region
from ecx_device.errors import CaseError
from ecx_device.materials import Material, load_material
from ecx_device.materials.database import AnodeMetal, anode_metal, thermal_boundary_conductance
from ecx_device.units import MESH_UNIT

#: Case key of each DeviceGeometry field, so geometry errors name what the user wrote.
_GEOMETRY_KEYS = {
    "wire_diameter": "geometry.wire.diameter", "wire_free_length": "geometry.wire.free_length",
    "cu_contact_length": "geometry.wire.cu_contact_length",
    "cu_radius": "geometry.cu_electrode.radius", "cu_thickness": "geometry.cu_electrode.thickness",
    "w_apex_radius": "geometry.w_tip.apex_radius", "w_height": "geometry.w_tip.height",
    "w_cone_half_angle": "geometry.w_tip.cone_half_angle",
    "w_contact_depth": "geometry.w_tip.contact_depth",
    "wire_mesh_size": "geometry.mesh.wire_size", "contact_mesh_size": "geometry.mesh.contact_size",
    "metal_mesh_size": "geometry.mesh.metal_size",
    "subsurface_thickness": "geometry.wire.subsurface_thickness",
    "subsurface_mesh_size": "geometry.mesh.subsurface_size",
    "contact_layer_thickness": "geometry.mesh.contact_layer_thickness",
    "front_mesh_size": "geometry.mesh.front_size",
    "cu_contact": "geometry.contact.cu", "w_contact": "geometry.contact.w",
    "cu_side_depth": "geometry.contact.cu_side_depth",
    "w_side_offset": "geometry.contact.w_side_offset",
}

#: Region of the material of the fully exchanged wire (X = 1); not a mesh region.
WIRE_EXCHANGED = "wire_exchanged"


def device_geometry(case: Case, mesh_scale: float = 1.0) -> DeviceGeometry | ParticleGeometry:
    """Convert the case's geometry section (m) to the mesher's description (nm), validated.

    Args:
        case: The validated case.
        mesh_scale: Factor on every mesh size (smoke runs coarsen the mesh).

    Raises:
        CaseError: the geometry cannot be built (the message names the case keys).
    """
    if case.geometry.particle is not None:
        return particle_geometry(case, mesh_scale)
    geom = _device_geometry(case, mesh_scale)
    try:
        geom.validate()
    except ValueError as err:
        msg = str(err)
        for field_name, key in sorted(_GEOMETRY_KEYS.items(), key=lambda kv: -len(kv[0])):
            msg = re.sub(rf"\b{field_name}\b", key, msg)  # whole names: cu_contact is in
            # cu_contact_length
        raise CaseError(msg) from None
    return geom


def _nm(x: float) -> float:
    """m -> nm without the conversion's rounding noise (1.9999999999999998)."""
    return float(f"{x / MESH_UNIT:.12g}")


def _device_geometry(case: Case, mesh_scale: float) -> DeviceGeometry:
    g = case.geometry
    nm = _nm

    return DeviceGeometry(
        dimension=g.dimension,
        wire_diameter=nm(g.wire.diameter),
        wire_free_length=nm(g.wire.free_length),
        cu_contact_length=nm(g.wire.cu_contact_length),
        cu_radius=nm(g.cu_electrode.radius),
        cu_thickness=nm(g.cu_electrode.thickness),
        w_apex_radius=nm(g.w_tip.apex_radius),
        w_cone_half_angle=math.degrees(g.w_tip.cone_half_angle),
        w_height=nm(g.w_tip.height),
        w_contact_depth=nm(g.w_tip.contact_depth),
        wire_mesh_size=nm(g.mesh.wire_size) * mesh_scale,
        contact_mesh_size=nm(g.mesh.contact_size) * mesh_scale,
        metal_mesh_size=nm(g.mesh.metal_size) * mesh_scale,
        subsurface_thickness=(None if g.wire.subsurface_thickness is None
                              else nm(g.wire.subsurface_thickness)),
        # not scaled: a coarsened (smoke) mesh must still resolve the layer
        subsurface_mesh_size=(None if g.mesh.subsurface_size is None
                              else nm(g.mesh.subsurface_size)),
        cu_contact=g.contact.cu,
        cu_side_depth=nm(g.contact.cu_side_depth),
        w_contact=g.contact.w,
        w_side_offset=nm(g.contact.w_side_offset),
        # the layer is only meshed where it carries a finite conductance (2D/3D)
        contact_layer_thickness=(nm(g.mesh.contact_layer_thickness)
                                 if boundary_conductances(case) and g.dimension != "1d"
                                 else 0.0),
        **_front_refinement(case, mesh_scale),
    )


def _front_refinement(case: Case, mesh_scale: float) -> dict:
    """The DeviceGeometry fields that refine the mesh at the prescribed composition's fronts
    (``geometry.mesh.front_size``; scaled with the other sizes), or none."""
    size, spec, g = case.geometry.mesh.front_size, case.composition, case.geometry
    if size is None:
        return {}
    if spec.shape == "file":
        raise CaseError("geometry.mesh.front_size: composition shape 'file' has no front the "
                        "mesher knows; expected shape core_shell or axial_segment, or no "
                        "front_size")
    profile = CompositionProfile(spec, _nm(g.wire.diameter) / 2, _nm(g.wire.free_length),
                                 _nm(g.wire.cu_contact_length))
    segments = profile.front_segments()
    return {"front_mesh_size": _nm(size) * mesh_scale, "front_segments": tuple(segments),
            "front_band": FRONT_BAND_WIDTHS * _nm(spec.front_width)}


def boundary_conductances(case: Case) -> dict[str, float]:
    """The finite thermal boundary conductances of the case, interface facet group -> G
    (W m^-2 K^-1); ``sourced`` values come from materials/data/contacts.yaml.

    Raises:
        CaseError: ``sourced`` for a metal/wire pair without data (naming the case key).
    """
    th, m = case.thermal, case.materials
    out = {}
    for facet, key, metal in ((Facet.CU_WIRE, "cu_wire_boundary_conductance", m.cu_electrode),
                              (Facet.W_WIRE, "w_wire_boundary_conductance", m.w_tip)):
        value = getattr(th, key)
        if value == "sourced":
            try:
                value = thermal_boundary_conductance(metal, m.wire).value
            except CaseError as err:
                raise CaseError(f"thermal.{key} = 'sourced': {err}") from None
        if value is not None:
            out[str(facet)] = float(value)
    return out


def region_materials(case: Case) -> dict[str, Material]:
    """Region name -> material with the case's overrides applied; also the exchanged phase of
    the wire under :data:`WIRE_EXCHANGED`.

    Raises:
        CaseError: an unknown material or a bad override (naming the case key).
    """
    names = {Region.CU: ("cu_electrode", case.materials.cu_electrode),
             Region.WIRE: ("wire", case.materials.wire),
             Region.W: ("w_tip", case.materials.w_tip),
             WIRE_EXCHANGED: ("wire_exchanged", case.materials.wire_exchanged)}
    out = {}
    for region, (key, name) in names.items():
        try:
            mat = load_material(name)
        except CaseError as err:
            raise CaseError(f"materials.{key}: {err}") from None
        overrides = case.materials.overrides.get(key, {})
        out[region] = mat.with_overrides(overrides, f"materials.overrides.{key}")
    return out


def case_anode_metal(case: Case) -> AnodeMetal | None:
    """The anode metal whose dissolution feeds the exchange (``exchange.anode``, default the Cu
    electrode's material); None when the Cu comes from elsewhere (``exchange.cu_source``).

    Raises:
        CaseError: an unknown anode metal (naming ``exchange.anode``).
    """
    return exchange_metal(case) if case.exchange.cu_source == "anode" else None


def anode_equilibrium_voltage(case: Case, metal: AnodeMetal) -> float | None:
    """E_eq (V) of the case's anode kinetics (``exchange.anode_equilibrium``): None for
    ``reaction`` (default) and ``reaction_zhang2017``, meaning the metal in equilibrium with its
    interstitial ion (c = c_s at zero drop; the exchange's Delta G_r is paid in the bulk,
    :func:`exchange_free_energy`); an aqueous standard potential for ``zhang2017`` /
    ``tabulated`` (comparison only: it adds a free energy at the anode on top of the bulk's)."""
    choice = case.exchange.anode_equilibrium
    if choice.startswith("reaction"):
        return None
    return metal.potential(zhang=choice == "zhang2017")


def exchange_free_energy(case: Case) -> float:
    """Delta G_r (J per S site) of the exchange nu M + CdS -> M_nu S + Cd the bulk kinetics
    balance against: 2 e E_rev of the anode metal (``exchange.anode``, default the Cu
    electrode's material, whatever the Cu source), from its tabulated sulfide formation energy,
    or Zhang 2017's where he quotes one (``anode_equilibrium``: ``reaction_zhang2017`` or
    ``zhang2017``).

    Raises:
        CaseError: an unknown metal (naming ``exchange.anode``).
    """
    zhang = case.exchange.anode_equilibrium in ("reaction_zhang2017", "zhang2017")
    return exchange_metal(case).exchange_free_energy(zhang=zhang)


def exchange_metal(case: Case) -> AnodeMetal:
    """The metal whose sulfide the exchange makes (``exchange.anode``, default the Cu
    electrode's material, whatever the Cu source): its reaction free energy and its product's
    metal atoms per S atom (``metal_per_sulfur``, nu of the exchange module).

    Raises:
        CaseError: an unknown metal (naming ``exchange.anode``).
    """
    name = case.exchange.anode or case.materials.cu_electrode
    try:
        return anode_metal(name)
    except CaseError as err:
        raise CaseError(f"exchange.anode = {name!r}: {err}") from None


def particle_geometry(case: Case, mesh_scale: float = 1.0) -> ParticleGeometry:
    """The particle of ``geometry.particle`` (nm), validated together with the exchange keys it
    needs (front kinetics, its source, a 0 V protocol, a resolved reaction zone).

    Raises:
        CaseError: one line naming the case key.
    """
    p = case.geometry.particle
    geom = ParticleGeometry(
        dimension=case.geometry.dimension, shape=p.shape, diameter=_nm(p.diameter),
        length=_nm(p.length) if p.length is not None else 0.0,
        donors=tuple(ParticleDonor(d.at, _nm(d.radius), _nm(d.z), d.entry_sites)
                     for d in p.donors),
        mesh_size=_nm(p.mesh_size) * mesh_scale,
        contact_mesh_size=_nm(p.contact_mesh_size) * mesh_scale)
    try:
        geom.validate()
    except ValueError as err:
        raise CaseError(f"geometry.particle.{err}") from None
    _check_particle_exchange(case, geom, mesh_scale)
    return geom


def _check_particle_exchange(case: Case, geom: ParticleGeometry, mesh_scale: float) -> None:
    """A particle runs the front kinetics from its donors or a bath, at 0 V (no electrodes)."""
    ex = case.exchange
    if not ex.enabled or ex.kinetics != "front":
        raise CaseError(f"exchange.kinetics = {ex.kinetics!r} (enabled: {ex.enabled}): a "
                        "particle needs exchange.enabled: true and kinetics: front")
    want = "donors" if geom.donors else "bath"
    if ex.cu_source != want:
        raise CaseError(f"exchange.cu_source = {ex.cu_source!r}: expected {want!r} for a "
                        f"particle {'with' if geom.donors else 'without'} donor contacts")
    if (ex.bath is not None) != (want == "bath"):
        raise CaseError(f"exchange.bath = {ex.bath!r}: expected a bath exactly when "
                        "cu_source is 'bath'")
    if ex.sublimation:
        raise CaseError("exchange.sublimation = true: the front kinetics have no vacancy "
                        "channel; expected sublimation: false for a particle")
    used = {round(p.voltage, 12) for p in case.bias.protocol.bias_points()}
    if used - {0.0}:
        raise CaseError(f"bias.protocol: voltages {sorted(used)} V; a particle has no "
                        "electrodes, expected 0 V holds")
    zone = _nm(ex.reaction_zone_width) * mesh_scale
    if zone < 1.5 * geom.mesh_size * (1 - 1e-9):
        raise CaseError(f"exchange.reaction_zone_width = {zone:g} nm: expected at least 1.5 x "
                        f"geometry.particle.mesh_size ({1.5 * geom.mesh_size:g} nm) so the "
                        "zone spans two cells")
