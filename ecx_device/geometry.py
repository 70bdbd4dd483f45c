"""Gmsh geometry and mesh of the Cu anode – CdS nanowire – W tip device.

The device is a CdS nanowire standing on a Cu electrode (its foot embedded in the Cu) and touched at
its far end by the spherical apex of a conical W tip. This module turns a :class:`DeviceGeometry`
into a meshed gmsh model with named physical groups, in one of three dimensions:

* ``"1d"``: the free part of the wire only, the interval ``x in [0, L]``; the electrodes are lumped
  into the two end points (``cu_sink`` at ``x = 0``, ``w_sink`` at ``x = L``).
* ``"axisymmetric"``: the r–z half cross-section, ``x = r >= 0`` and ``y = z``; the ``axis`` group
  marks the ``r = 0`` boundary.
* ``"3d"``: the full solid, axis along ``z``.

The axial coordinate is always the last one, all lengths are in nanometres, and the wire's free
length runs from the Cu surface (``z = 0``) to the wire's far end (``z = L``). Interfaces are
conformal (OpenCASCADE ``fragment``) so that the metal and wire meshes share their interface nodes.

Only gmsh and numpy are used here, so the module can be imported without DOLFINx; the resulting
model is meant to be read with ``dolfinx.io.gmsh.model_to_mesh`` or written with :func:`write_msh`.
"""

from __future__ import annotations

import math
import numbers
import os
import pathlib
import threading
from dataclasses import dataclass
from enum import StrEnum
from types import TracebackType
from typing import Final

import gmsh
import numpy as np

__all__ = [
    "DIMENSIONS",
    "FACETS",
    "FACET_TAGS",
    "REGIONS",
    "REGION_TAGS",
    "SIZE_GRADIENT",
    "DeviceGeometry",
    "Facet",
    "Region",
    "build_model",
    "gmsh_session",
    "write_msh",
]


class Region(StrEnum):
    """Names of the cell (highest-dimension) physical groups."""

    CU = "cu"
    WIRE = "wire"
    W = "w"


class Facet(StrEnum):
    """Names of the facet (codimension-1) physical groups."""

    CU_SINK = "cu_sink"  # Cu far face: heat sink and biased terminal
    W_SINK = "w_sink"  # W far face: heat sink and ground terminal
    WIRE_SURFACE = "wire_surface"  # free surface of the wire (radiates)
    CU_WIRE = "cu_wire"  # Cu|wire interface
    W_WIRE = "w_wire"  # W|wire interface
    CU_SURFACE = "cu_surface"  # other outer surfaces of the Cu electrode
    W_SURFACE = "w_surface"  # other outer surfaces of the W tip
    AXIS = "axis"  # r = 0 line (axisymmetric only)


# The spec-facing spellings: ``REGIONS.CU == "cu"``, ``FACETS.AXIS == "axis"``; both iterate.
REGIONS = Region
FACETS = Facet

# Fixed physical-group tags, so that tags read back from a .msh file mean the same in every run and
# every dimension (a group absent from a dimension, e.g. "cu" in 1D, simply has no entities).
REGION_TAGS: Final[dict[str, int]] = {Region.CU: 1, Region.WIRE: 2, Region.W: 3}
FACET_TAGS: Final[dict[str, int]] = {
    Facet.CU_SINK: 11,
    Facet.W_SINK: 12,
    Facet.WIRE_SURFACE: 13,
    Facet.CU_WIRE: 14,
    Facet.W_WIRE: 15,
    Facet.CU_SURFACE: 16,
    Facet.W_SURFACE: 17,
    Facet.AXIS: 18,
}

DIMENSIONS: Final[tuple[str, ...]] = ("1d", "axisymmetric", "3d")

# Largest mesh validate() accepts: beyond this a typo in a size (nm for um) would hang gmsh for
# hours or exhaust memory on a workstation; real studies that need more can raise it.
MAX_CELLS: Final[float] = 2e7

# Growth of the target element size with distance from a refined zone (nm of size per nm of
# distance). 0.3 keeps neighbouring elements within ~30 % of each other, a common quality bound.
SIZE_GRADIENT: Final[float] = 0.3

# A W rim landing this close (relative to the wire radius) to the wire's edge would create sliver
# faces and near-tangent booleans, so validate() rejects it.
_RIM_CLEARANCE: Final[float] = 0.01


@dataclass(frozen=True)
class DeviceGeometry:
    """Dimensions and mesh sizes of the device; all lengths in nm.

    The defaults are the reference device (a 40 nm wire, 300 nm free length) with mesh sizes that
    give an O(10^4)-triangle axisymmetric mesh.

    Attributes:
        dimension: ``"1d"``, ``"axisymmetric"`` or ``"3d"``.
        wire_diameter: Wire diameter d (nm).
        wire_free_length: Free wire length L (nm), from the Cu surface (z = 0) to the wire's far
            end (z = L).
        cu_contact_length: Length of wire embedded in the Cu electrode (nm); z in [-this, 0].
        cu_radius: Radius of the Cu disk (nm), axisymmetric and 3D.
        cu_thickness: Cu occupies z in [-cu_thickness, 0] (nm); must exceed cu_contact_length.
        w_apex_radius: Radius of the spherical apex of the W tip (nm).
        w_cone_half_angle: Half opening angle of the W cone (degrees), in (0, 90).
        w_height: Height of the W tip from its apex to its flat far (sink) face (nm).
        w_contact_depth: How far the apex sphere overlaps the wire's end (nm); in (0, apex radius).
        wire_mesh_size: Element size inside the wire (nm).
        contact_mesh_size: Element size at the Cu|wire and W|wire interfaces (nm).
        metal_mesh_size: Element size far from the wire in the metals (nm).
    """

    dimension: str = "axisymmetric"
    wire_diameter: float = 40.0
    wire_free_length: float = 300.0
    cu_contact_length: float = 50.0
    cu_radius: float = 200.0
    cu_thickness: float = 150.0
    w_apex_radius: float = 25.0
    w_cone_half_angle: float = 15.0
    w_height: float = 250.0
    w_contact_depth: float = 5.0
    wire_mesh_size: float = 4.0
    contact_mesh_size: float = 2.0
    metal_mesh_size: float = 40.0

    # ----------------------------------------------------------------------------------------------
    # Derived quantities (nm, nm^2)

    @property
    def gdim(self) -> int:
        """Geometric (and topological) dimension of the mesh: 1, 2 or 3."""
        return {"1d": 1, "axisymmetric": 2, "3d": 3}[self.dimension]

    @property
    def wire_radius(self) -> float:
        """Wire radius a = d / 2 (nm)."""
        return 0.5 * self.wire_diameter

    @property
    def w_apex_z(self) -> float:
        """Axial position of the W apex, the lowest point of the apex sphere (nm)."""
        return self.wire_free_length - self.w_contact_depth

    @property
    def w_sphere_center_z(self) -> float:
        """Axial position of the centre of the apex sphere (nm)."""
        return self.w_apex_z + self.w_apex_radius

    @property
    def w_tangent_z(self) -> float:
        """Axial position of the circle where the cone is tangent to the apex sphere (nm)."""
        return self.w_sphere_center_z - self.w_apex_radius * math.sin(self._half_angle_rad)

    @property
    def w_tangent_radius(self) -> float:
        """Radius of the circle where the cone is tangent to the apex sphere (nm)."""
        return self.w_apex_radius * math.cos(self._half_angle_rad)

    @property
    def w_far_z(self) -> float:
        """Axial position of the W tip's flat far (sink) face (nm)."""
        return self.w_apex_z + self.w_height

    @property
    def w_far_radius(self) -> float:
        """Radius of the W tip's flat far (sink) face (nm)."""
        return self.w_tip_radius_at(self.w_far_z)

    @property
    def w_contact_radius(self) -> float:
        """Radius of the W tip's cross-section in the plane of the wire's end, z = L (nm).

        Smaller than the wire radius: the W|wire interface is a disk on the wire's end face.
        Larger: the interface is the whole end face plus a band of the wire's side.
        """
        return self.w_tip_radius_at(self.wire_free_length)

    @property
    def cu_wire_area(self) -> float:
        """Analytic area of the Cu|wire interface: embedded side plus wire foot (nm^2)."""
        radius = self.wire_radius
        return 2.0 * math.pi * radius * self.cu_contact_length + math.pi * radius**2

    @property
    def w_wire_area(self) -> float:
        """Analytic area of the W|wire interface (the wire surface inside the W tip) (nm^2)."""
        radius = self.wire_radius
        contact_radius = self.w_contact_radius
        if contact_radius <= radius:
            return math.pi * contact_radius**2
        band_height = self.wire_free_length - self._w_tip_z_at_radius(radius)
        return math.pi * radius**2 + 2.0 * math.pi * radius * band_height

    @property
    def wire_volume(self) -> float:
        """Analytic volume of the wire cylinder, embedded part included (nm^3)."""
        return math.pi * self.wire_radius**2 * (self.wire_free_length + self.cu_contact_length)

    @property
    def cu_volume(self) -> float:
        """Analytic volume of the Cu electrode (disk minus the embedded wire) (nm^3)."""
        return (
            math.pi * self.cu_radius**2 * self.cu_thickness
            - math.pi * self.wire_radius**2 * self.cu_contact_length
        )

    def w_tip_radius_at(self, z: float) -> float:
        """Radius of the (uncut) W tip's cross-section at axial position z.

        Args:
            z: Axial position (nm).

        Returns:
            The radius (nm); 0 below the apex.
        """
        if z <= self.w_apex_z:
            return 0.0
        if z <= self.w_tangent_z:
            offset = z - self.w_sphere_center_z
            return math.sqrt(max(self.w_apex_radius**2 - offset**2, 0.0))
        return self.w_tangent_radius + (z - self.w_tangent_z) * math.tan(self._half_angle_rad)

    def validate(self) -> None:
        """Check that the values describe a buildable device.

        Raises:
            ValueError: One line, ``"<field>: <value> ...; expected ..."``, naming the first field
                found inconsistent.
        """
        if self.dimension not in DIMENSIONS:
            raise ValueError(f"dimension: {self.dimension!r}; expected one of {DIMENSIONS}")
        for name in (
            "wire_diameter",
            "wire_free_length",
            "cu_contact_length",
            "cu_radius",
            "cu_thickness",
            "w_apex_radius",
            "w_height",
            "w_contact_depth",
            "wire_mesh_size",
            "contact_mesh_size",
            "metal_mesh_size",
        ):
            value = getattr(self, name)
            if not (isinstance(value, numbers.Real) and math.isfinite(value) and value > 0):
                raise ValueError(f"{name}: {value!r} nm; expected a finite length > 0")
        angle = self.w_cone_half_angle
        if not (isinstance(angle, numbers.Real) and math.isfinite(angle) and 0 < angle < 90):
            raise ValueError(f"w_cone_half_angle: {angle!r} deg; expected 0 < angle < 90")
        if self.dimension != "1d":  # electrodes are lumped in 1D: their shape does not matter
            self._validate_electrodes()
        if self.contact_mesh_size > self.wire_mesh_size:
            raise ValueError(
                f"contact_mesh_size: {self.contact_mesh_size} nm exceeds wire_mesh_size "
                f"({self.wire_mesh_size} nm); expected contact <= wire <= metal mesh size"
            )
        if self.wire_mesh_size > self.metal_mesh_size:
            raise ValueError(
                f"wire_mesh_size: {self.wire_mesh_size} nm exceeds metal_mesh_size "
                f"({self.metal_mesh_size} nm); expected contact <= wire <= metal mesh size"
            )
        if self.contact_mesh_size >= self.wire_diameter:
            raise ValueError(
                f"contact_mesh_size: {self.contact_mesh_size} nm; expected less than "
                f"wire_diameter ({self.wire_diameter} nm) so the wire is resolved across"
            )
        cells = self.estimated_cells()
        if cells > MAX_CELLS:
            raise ValueError(
                f"wire_mesh_size/metal_mesh_size: the mesh would have about {cells:.2g} cells; "
                f"expected at most {MAX_CELLS:.0e} (use larger mesh sizes or a smaller device)"
            )

    def _validate_electrodes(self) -> None:
        """Checks of the Cu and W bodies and their contacts (2D/3D only)."""
        if self.cu_thickness <= self.cu_contact_length:
            raise ValueError(
                f"cu_thickness: {self.cu_thickness} nm is not greater than cu_contact_length "
                f"({self.cu_contact_length} nm); expected the embedded wire to end inside the Cu"
            )
        if self.cu_radius <= self.wire_radius:
            raise ValueError(
                f"cu_radius: {self.cu_radius} nm is not greater than the wire radius "
                f"({self.wire_radius} nm); expected the Cu disk to surround the wire"
            )
        if self.w_contact_depth >= self.w_apex_radius:
            raise ValueError(
                f"w_contact_depth: {self.w_contact_depth} nm is not smaller than w_apex_radius "
                f"({self.w_apex_radius} nm); expected 0 < w_contact_depth < w_apex_radius"
            )
        if self.w_contact_depth >= self.wire_free_length:
            raise ValueError(
                f"w_contact_depth: {self.w_contact_depth} nm reaches the Cu surface "
                f"(wire_free_length {self.wire_free_length} nm); expected it to be smaller"
            )
        cap_height = self.w_tangent_z - self.w_apex_z
        min_height = max(cap_height, self.w_contact_depth)
        if self.w_height <= min_height:
            raise ValueError(
                f"w_height: {self.w_height} nm leaves no cone above the apex sphere / wire end; "
                f"expected w_height > {min_height:.6g} nm"
            )
        contact_radius = self.w_contact_radius
        if abs(contact_radius - self.wire_radius) <= _RIM_CLEARANCE * self.wire_radius:
            raise ValueError(
                f"w_contact_depth: {self.w_contact_depth} nm puts the W rim (radius "
                f"{contact_radius:.6g} nm) on the wire's edge (radius {self.wire_radius:.6g} nm); "
                f"expected the radii to differ by more than {_RIM_CLEARANCE:.0%}"
            )
        if contact_radius < self.contact_mesh_size:
            raise ValueError(
                f"w_contact_depth: {self.w_contact_depth} nm gives a W|wire contact radius of "
                f"{contact_radius:.6g} nm; expected at least contact_mesh_size "
                f"({self.contact_mesh_size} nm) so the contact is resolved"
            )

    def estimated_cells(self) -> float:
        """Rough cell count of the mesh from the region sizes and element sizes (no grading).

        A regular tetrahedron of edge h has volume h^3/(6 sqrt 2), a regular triangle h^2 sqrt3/4.
        """
        if self.dimension == "1d":
            return self.wire_free_length / self.contact_mesh_size
        w_volume = math.pi / 3 * self.w_far_radius**2 * self.w_height  # cone bound
        if self.dimension == "3d":
            per = 6 * math.sqrt(2)
            return per * (self.wire_volume / self.wire_mesh_size**3
                          + (self.cu_volume + w_volume) / self.metal_mesh_size**3)
        per = 4 / math.sqrt(3)
        wire_area = self.wire_radius * (self.wire_free_length + self.cu_contact_length)
        metal_area = self.cu_radius * self.cu_thickness + self.w_far_radius * self.w_height
        return per * (wire_area / self.wire_mesh_size**2 + metal_area / self.metal_mesh_size**2)

    @property
    def _half_angle_rad(self) -> float:
        return math.radians(self.w_cone_half_angle)

    def _w_tip_z_at_radius(self, radius: float) -> float:
        """Lowest axial position where the W tip is `radius` wide (nm); inverse of the profile."""
        if radius <= self.w_tangent_radius:
            return self.w_sphere_center_z - math.sqrt(self.w_apex_radius**2 - radius**2)
        return self.w_tangent_z + (radius - self.w_tangent_radius) / math.tan(self._half_angle_rad)


class gmsh_session:  # noqa: N801 - lower case on purpose: reads like a function in ``with``
    """Context manager that initialises gmsh quietly and finalises it on exit.

    If gmsh is already initialised (e.g. by an enclosing session or the caller), it is left alone
    on entry and on exit, so sessions nest safely.
    """

    def __init__(self) -> None:
        self._initialised_here = False

    def __enter__(self) -> gmsh_session:
        if not gmsh.isInitialized():
            # No config files: a user's ~/.gmshrc must not change the mesh. The SIGINT handler can
            # only be installed from the main thread, so skip it elsewhere (e.g. worker threads).
            gmsh.initialize(
                readConfigFiles=False,
                interruptible=threading.current_thread() is threading.main_thread(),
            )
            gmsh.option.setNumber("General.Terminal", 0)
            self._initialised_here = True
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._initialised_here and gmsh.isInitialized():
            gmsh.finalize()
        self._initialised_here = False


def build_model(geom: DeviceGeometry, name: str = "device") -> None:
    """Build, tag and mesh the device in a new gmsh model called `name`.

    gmsh must already be initialised by the caller. A model of the same name is replaced; the new
    model becomes the current one, so ``dolfinx.io.gmsh.model_to_mesh(gmsh.model, ...)`` reads it.
    The mesh is first order: intervals in 1D, triangles in 2D, tetrahedra in 3D. Every boundary
    facet belongs to exactly one facet group; the only tagged interior facets are the two
    interfaces. Physical-group tags are those of REGION_TAGS and FACET_TAGS. The mesh-size options
    set here (``Mesh.MeshSize*``, algorithms, order) are global and stay set in the session.

    Args:
        geom: Device dimensions (nm) and mesh sizes (nm); validated first.
        name: Name of the gmsh model to create.

    Raises:
        ValueError: If `geom` is inconsistent (see :meth:`DeviceGeometry.validate`).
        RuntimeError: If gmsh is not initialised or the boolean operations give an unexpected
            topology.
    """
    geom.validate()
    if not gmsh.isInitialized():
        raise RuntimeError("build_model: gmsh is not initialised; use gmsh_session() or write_msh")
    if name in gmsh.model.list():
        gmsh.model.setCurrent(name)
        gmsh.model.remove()
    gmsh.model.add(name)
    _set_mesh_options(geom)
    if geom.dimension == "1d":
        _build_1d(geom)
    else:
        _build_2d_3d(geom)


def write_msh(geom: DeviceGeometry, path: str | os.PathLike[str]) -> pathlib.Path:
    """Build and mesh the device and write it as a gmsh .msh file (format 4.1, ASCII).

    gmsh is initialised (quietly) if needed and finalised afterwards only if this call initialised
    it; otherwise the model stays in the caller's session as the current model.

    Args:
        geom: Device dimensions (nm) and mesh sizes (nm).
        path: Output file; its parent directory is created if missing.

    Returns:
        The path written.
    """
    out_path = pathlib.Path(path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with gmsh_session():
        build_model(geom, name=out_path.stem or "device")
        gmsh.option.setNumber("Mesh.MshFileVersion", 4.1)
        gmsh.option.setNumber("Mesh.Binary", 0)
        # Only elements in physical groups are saved, which is what DOLFINx expects.
        gmsh.option.setNumber("Mesh.SaveAll", 0)
        gmsh.write(str(out_path))
    return out_path


# --------------------------------------------------------------------------------------------------
# Implementation


def _set_mesh_options(geom: DeviceGeometry) -> None:
    """Make the size fields the only source of element sizes and fix the element type/order."""
    for option in ("MeshSizeExtendFromBoundary", "MeshSizeFromPoints", "MeshSizeFromCurvature"):
        gmsh.option.setNumber(f"Mesh.{option}", 0)
    gmsh.option.setNumber("Mesh.MeshSizeMin", 0.0)
    gmsh.option.setNumber("Mesh.MeshSizeMax", geom.metal_mesh_size)
    gmsh.option.setNumber("Mesh.ElementOrder", 1)
    gmsh.option.setNumber("Mesh.RecombineAll", 0)  # triangles / tetrahedra only
    gmsh.option.setNumber("Mesh.Algorithm", 6)  # Frontal-Delaunay: good triangles
    gmsh.option.setNumber("Mesh.Algorithm3D", 1)  # Delaunay: robust and fast enough here


def _build_1d(geom: DeviceGeometry) -> None:
    """The free wire as the interval [0, L] on x, with its two end points as lumped contacts."""
    occ = gmsh.model.occ
    cu_end = occ.addPoint(0.0, 0.0, 0.0)
    w_end = occ.addPoint(geom.wire_free_length, 0.0, 0.0)
    wire = occ.addLine(cu_end, w_end)
    occ.synchronize()

    _add_group(1, [wire], Region.WIRE, REGION_TAGS)
    _add_group(0, [cu_end], Facet.CU_SINK, FACET_TAGS)
    _add_group(0, [w_end], Facet.W_SINK, FACET_TAGS)

    field = gmsh.model.mesh.field
    distance = field.add("Distance")
    field.setNumbers(distance, "PointsList", [cu_end, w_end])
    threshold = _add_threshold(
        distance,
        size_min=geom.contact_mesh_size,
        size_max=geom.wire_mesh_size,
        dist_min=geom.wire_radius,
    )
    field.setAsBackgroundMesh(threshold)
    gmsh.model.mesh.generate(1)


def _build_2d_3d(geom: DeviceGeometry) -> None:
    """Axisymmetric cross-section or full 3D solid: shapes, fragments, groups, sizes, mesh."""
    dim = geom.gdim
    occ = gmsh.model.occ
    wire, cu, tip = _add_shapes_2d(geom) if dim == 2 else _add_shapes_3d(geom)

    # Cut the wire out of both metals first, so the wire stays one clean volume (no internal faces
    # at z = 0 or around the apex lens); fragmenting then only makes the interfaces conformal.
    cu_pieces, _ = occ.cut([(dim, cu)], [(dim, wire)], removeObject=True, removeTool=False)
    w_pieces, _ = occ.cut([(dim, tip)], [(dim, wire)], removeObject=True, removeTool=False)
    inputs = [(dim, wire)] + cu_pieces + w_pieces
    _, fragment_map = occ.fragment(inputs[:1], inputs[1:])
    occ.synchronize()

    input_region = [Region.WIRE] + [Region.CU] * len(cu_pieces) + [Region.W] * len(w_pieces)
    region_of: dict[int, Region] = {}
    for region, outputs in zip(input_region, fragment_map, strict=True):
        for out_dim, out_tag in outputs:
            if out_dim != dim:
                continue
            if region_of.get(out_tag, region) != region:
                raise RuntimeError(f"fragment: entity {out_tag} belongs to two regions")
            region_of[out_tag] = region
    all_cells = {tag for _, tag in gmsh.model.getEntities(dim)}
    if set(region_of) != all_cells:
        raise RuntimeError(f"fragment: unassigned cells {sorted(all_cells - set(region_of))}")
    for region in Region:
        cells = sorted(tag for tag, owner in region_of.items() if owner == region)
        if not cells:
            raise RuntimeError(f"fragment: region {region!r} is empty")
        _add_group(dim, cells, region, REGION_TAGS)

    facets_of = _classify_facets(geom, region_of)
    for facet, tags in facets_of.items():
        if tags:
            _add_group(dim - 1, sorted(tags), facet, FACET_TAGS)

    _add_size_fields(geom, region_of, facets_of)
    gmsh.model.mesh.generate(dim)


def _add_shapes_2d(geom: DeviceGeometry) -> tuple[int, int, int]:
    """Wire, Cu and W tip as OCC surfaces in the r–z half plane (x = r >= 0, y = z).

    Returns:
        The surface tags (wire, cu, tip), overlapping; the caller cuts and fragments them.
    """
    occ = gmsh.model.occ
    radius = geom.wire_radius
    wire = occ.addRectangle(
        0.0, -geom.cu_contact_length, 0.0, radius, geom.wire_free_length + geom.cu_contact_length
    )
    cu = occ.addRectangle(0.0, -geom.cu_thickness, 0.0, geom.cu_radius, geom.cu_thickness)

    # W tip profile: apex arc (centre on the axis) tangent to the cone line, flat far face, axis.
    apex = occ.addPoint(0.0, geom.w_apex_z, 0.0)
    centre = occ.addPoint(0.0, geom.w_sphere_center_z, 0.0)
    tangent = occ.addPoint(geom.w_tangent_radius, geom.w_tangent_z, 0.0)
    far_rim = occ.addPoint(geom.w_far_radius, geom.w_far_z, 0.0)
    far_axis = occ.addPoint(0.0, geom.w_far_z, 0.0)
    curves = [
        occ.addCircleArc(apex, centre, tangent),
        occ.addLine(tangent, far_rim),
        occ.addLine(far_rim, far_axis),
        occ.addLine(far_axis, apex),
    ]
    # The arc centre is only a construction point; left in, it would be a stray mesh node.
    occ.remove([(0, centre)])
    tip = occ.addPlaneSurface([occ.addCurveLoop(curves)])
    return wire, cu, tip


def _add_shapes_3d(geom: DeviceGeometry) -> tuple[int, int, int]:
    """Wire, Cu and W tip as OCC volumes with the axis along z.

    Returns:
        The volume tags (wire, cu, tip), overlapping; the caller cuts and fragments them.
    """
    occ = gmsh.model.occ
    wire = occ.addCylinder(
        0.0,
        0.0,
        -geom.cu_contact_length,
        0.0,
        0.0,
        geom.wire_free_length + geom.cu_contact_length,
        geom.wire_radius,
    )
    cu = occ.addCylinder(0.0, 0.0, -geom.cu_thickness, 0.0, 0.0, geom.cu_thickness, geom.cu_radius)

    # Spherical cap from the south pole up to the tangent latitude (-half angle), closed by a flat
    # disk that coincides with the cone's bottom disk: fusing along a shared plane is robust, unlike
    # fusing a whole sphere with a cone tangent to it.
    cap = occ.addSphere(
        0.0,
        0.0,
        geom.w_sphere_center_z,
        geom.w_apex_radius,
        angle1=-0.5 * math.pi,
        angle2=-math.radians(geom.w_cone_half_angle),  # latitude of the tangent circle
    )
    cone = occ.addCone(
        0.0,
        0.0,
        geom.w_tangent_z,
        0.0,
        0.0,
        geom.w_far_z - geom.w_tangent_z,
        geom.w_tangent_radius,
        geom.w_far_radius,
    )
    fused, _ = occ.fuse([(3, cap)], [(3, cone)])
    if len(fused) != 1:
        raise RuntimeError(f"W tip: fusing apex cap and cone gave {len(fused)} volumes, not 1")
    return wire, cu, fused[0][1]


def _classify_facets(geom: DeviceGeometry, region_of: dict[int, Region]) -> dict[Facet, set[int]]:
    """Assign every facet entity of the fragmented model to exactly one facet group.

    Uses the regions on either side of each facet, then the facet's bounding box for the sinks
    (flat faces at z = -cu_thickness and z = w_far_z) and the axis (x = 0, axisymmetric only).

    Returns:
        Facet group -> facet entity tags.

    Raises:
        RuntimeError: A facet touches no region, or the metals touch each other.
    """
    dim = geom.gdim
    axial = dim - 1  # index of the axial coordinate in (x, y, z)
    # OCC bounding boxes are padded by its tolerance; compare with a margin well above that but far
    # below any device feature.
    tolerance = 1e-6 * max(geom.cu_radius, geom.w_far_z + geom.cu_thickness)
    facets_of: dict[Facet, set[int]] = {facet: set() for facet in Facet}

    def flat_at(box: np.ndarray, z: float) -> bool:
        return abs(box[axial] - z) < tolerance and abs(box[3 + axial] - z) < tolerance

    for _, tag in gmsh.model.getEntities(dim - 1):
        upward, _ = gmsh.model.getAdjacencies(dim - 1, tag)
        regions = {region_of[int(cell)] for cell in upward}
        box = np.asarray(gmsh.model.getBoundingBox(dim - 1, tag))
        on_axis = dim == 2 and abs(box[0]) < tolerance and abs(box[3]) < tolerance
        if regions == {Region.WIRE, Region.CU}:
            facet = Facet.CU_WIRE
        elif regions == {Region.WIRE, Region.W}:
            facet = Facet.W_WIRE
        elif len(regions) != 1:
            raise RuntimeError(f"facet {tag} touches regions {sorted(regions)}")
        elif on_axis:
            facet = Facet.AXIS
        elif regions == {Region.WIRE}:
            facet = Facet.WIRE_SURFACE
        elif regions == {Region.CU}:
            facet = Facet.CU_SINK if flat_at(box, -geom.cu_thickness) else Facet.CU_SURFACE
        else:
            facet = Facet.W_SINK if flat_at(box, geom.w_far_z) else Facet.W_SURFACE
        facets_of[facet].add(tag)
    return facets_of


def _add_size_fields(
    geom: DeviceGeometry, region_of: dict[int, Region], facets_of: dict[Facet, set[int]]
) -> None:
    """Background size: contact size near the interfaces, wire size in the wire, metal far away.

    Two Distance + Threshold pairs combined with Min: one around the interfaces (contact size
    within one wire radius, then growing at SIZE_GRADIENT) and one around the whole wire surface
    (wire size within one wire radius, which covers the wire's inside, then growing).
    """
    dim = geom.gdim
    interfaces = sorted(facets_of[Facet.CU_WIRE] | facets_of[Facet.W_WIRE])
    wire_cells = [tag for tag, region in region_of.items() if region == Region.WIRE]
    wire_boundary_dimtags = gmsh.model.getBoundary(
        [(dim, cell) for cell in wire_cells], combined=False, oriented=False
    )
    wire_boundary = sorted({abs(tag) for _, tag in wire_boundary_dimtags})

    interface_distance = _add_distance(geom, interfaces)
    wire_distance = _add_distance(geom, wire_boundary)
    near_interfaces = _add_threshold(
        interface_distance,
        size_min=geom.contact_mesh_size,
        size_max=geom.metal_mesh_size,
        dist_min=geom.wire_radius,
    )
    near_wire = _add_threshold(
        wire_distance,
        size_min=geom.wire_mesh_size,
        size_max=geom.metal_mesh_size,
        dist_min=geom.wire_radius,
    )
    field = gmsh.model.mesh.field
    combined = field.add("Min")
    field.setNumbers(combined, "FieldsList", [near_interfaces, near_wire])
    field.setAsBackgroundMesh(combined)


def _add_distance(geom: DeviceGeometry, facet_tags: list[int]) -> int:
    """Distance field to the given facets (curves in 2D, surfaces in 3D).

    gmsh samples each facet at `Sampling` points per parametric direction; the spacing is chosen
    well below the contact size on the longest facet so that the sampled distance is accurate where
    sizes are small.

    Returns:
        The field tag.
    """
    dim = geom.gdim
    longest = max(_extent(dim - 1, tag) for tag in facet_tags)
    spacing = 0.5 * geom.contact_mesh_size if dim == 2 else geom.contact_mesh_size
    # 3D sampling is per direction (N^2 points a surface), so it is capped to keep it cheap.
    cap = 4000 if dim == 2 else 300
    sampling = int(min(max(math.ceil(longest / spacing), 20), cap))
    field = gmsh.model.mesh.field
    distance = field.add("Distance")
    field.setNumbers(distance, "CurvesList" if dim == 2 else "SurfacesList", facet_tags)
    field.setNumber(distance, "Sampling", sampling)
    return distance


def _add_threshold(distance: int, size_min: float, size_max: float, dist_min: float) -> int:
    """Threshold field: `size_min` up to `dist_min`, then growing at SIZE_GRADIENT to `size_max`.

    Returns:
        The field tag.
    """
    field = gmsh.model.mesh.field
    threshold = field.add("Threshold")
    field.setNumber(threshold, "InField", distance)
    field.setNumber(threshold, "SizeMin", size_min)
    field.setNumber(threshold, "SizeMax", size_max)
    field.setNumber(threshold, "DistMin", dist_min)
    # Threshold needs DistMax > DistMin even when the sizes are equal.
    field.setNumber(threshold, "DistMax", dist_min + max(size_max - size_min, 1e-9) / SIZE_GRADIENT)
    return threshold


def _extent(dim: int, tag: int) -> float:
    """Largest side of an entity's bounding box (nm); a cheap stand-in for its length."""
    box = gmsh.model.getBoundingBox(dim, tag)
    return max(box[3] - box[0], box[4] - box[1], box[5] - box[2])


def _add_group(dim: int, tags: list[int], name: str, tag_of: dict[str, int]) -> None:
    """Create a named physical group with its fixed tag."""
    gmsh.model.addPhysicalGroup(dim, tags, tag=tag_of[name], name=str(name))
