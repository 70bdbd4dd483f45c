"""From the case file to the device: the mesher's geometry (nm) and the material of each region.

Both are cheap (no gmsh, no DOLFINx), so ``ecx-device check`` and ``sweep`` use them to reject a
bad case before anything is meshed or solved.
"""

from __future__ import annotations

import math

from ecx_device.case.schema import Case
from ecx_device.device.geometry import DeviceGeometry
from ecx_device.device.names import Region
from ecx_device.errors import CaseError
from ecx_device.materials import Material, load_material
from ecx_device.materials.database import AnodeMetal, anode_metal
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
}

#: Region of the material of the fully exchanged wire (X = 1); not a mesh region.
WIRE_EXCHANGED = "wire_exchanged"


def device_geometry(case: Case, mesh_scale: float = 1.0) -> DeviceGeometry:
    """Convert the case's geometry section (m) to the mesher's description (nm), validated.

    Args:
        case: The validated case.
        mesh_scale: Factor on every mesh size (smoke runs coarsen the mesh).

    Raises:
        CaseError: the geometry cannot be built (the message names the case keys).
    """
    geom = _device_geometry(case, mesh_scale)
    try:
        geom.validate()
    except ValueError as err:
        msg = str(err)
        for field_name, key in sorted(_GEOMETRY_KEYS.items(), key=lambda kv: -len(kv[0])):
            msg = msg.replace(field_name, key)
        raise CaseError(msg) from None
    return geom


def _device_geometry(case: Case, mesh_scale: float) -> DeviceGeometry:
    g = case.geometry

    def nm(x: float) -> float:
        return float(f"{x / MESH_UNIT:.12g}")  # drop m -> nm rounding noise (1.9999999999999998)

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
    )


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
    spec = case.exchange
    if spec.cu_source != "anode":
        return None
    name = spec.anode or case.materials.cu_electrode
    try:
        return anode_metal(name)
    except CaseError as err:
        raise CaseError(f"exchange.anode = {name!r}: {err}") from None


def anode_equilibrium_voltage(case: Case, metal: AnodeMetal) -> float:
    """E_eq (V) of the case's anode kinetics (``exchange.anode_equilibrium``): the exchange
    reaction's Delta G_r/(2F) per S atom (default), or an aqueous standard potential."""
    choice = case.exchange.anode_equilibrium
    if choice.startswith("reaction"):
        return metal.exchange_voltage(zhang=choice == "reaction_zhang2017")
    return metal.potential(zhang=choice == "zhang2017")
