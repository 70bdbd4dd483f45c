"""Gmsh geometry and mesh of the Cu anode – CdS nanowire – W tip device.

The device is a CdS nanowire standing on a Cu electrode (its foot embedded in the Cu) and touched at
its far end by the spherical apex of a conical W tip. This module turns a :class:`~ecx_device.device.geometry.DeviceGeometry`
into a meshed gmsh model with named physical groups, in one of three dimensions:

* ``"1d"``: the free part of the wire only, the interval ``x in [0, L]``; the electrodes are lumped
  into the two end points (``cu_sink`` at ``x = 0``, ``w_sink`` at ``x = L``).
* ``"axisymmetric"``: the r–z half cross-section, ``x = r >= 0`` and ``y = z``; the ``axis`` group
  marks the ``r = 0`` boundary.
* ``"3d"``: the full solid, axis along ``z``.

The axial coordinate is always the last one, all lengths are in nanometres, and the wire's free
length runs from the Cu surface (``z = 0``) to the wire's far end (``z = L``). Interfaces are
conformal (OpenCASCADE ``fragment``) so that the metal and wire meshes share their interface nodes.

In 3D the wire may instead lie across the edge of a Cu block (``cu_contact="side"``) and the W tip
touch its side (``w_contact="side"``); with ``contact_layer_thickness > 0`` the metal within that
distance of the wire is split off as the contact layers ``cu_wire_layer`` / ``w_wire_layer``
(device/names.LAYERS), which carry the thermal boundary conductance.

Only gmsh and numpy are used here, so the module can be imported without DOLFINx; the resulting
model is meant to be read with ``dolfinx.io.gmsh.model_to_mesh`` or written with :func:`write_msh`.
"""

from __future__ import annotations

import math
import os
import pathlib
import signal
import threading
from types import TracebackType

import gmsh
import numpy as np

from ecx_device.device.geometry import (FRONT_BAND_WIDTHS, SIZE_GRADIENT, DeviceGeometry,
                                        ParticleGeometry)
from ecx_device.device.names import (DONOR_TAG_BASE, FACET_TAGS, LAYER_NAMES, LAYER_TAGS, LAYERS,
                                     REGION_TAGS, Facet, Region, donor_facet)

__all__ = ["build_model", "gmsh_session", "mesher_threads", "write_msh"]

#: Environment variable setting the number of threads of the 3D mesher (default 1).
THREADS_ENV = "ECX_GMSH_THREADS"


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
            main = threading.current_thread() is threading.main_thread()
            gmsh.initialize(readConfigFiles=False, interruptible=main)
            on_record = signal.getsignal(signal.SIGTERM)
            if main and on_record is not None:
                # gmsh resets SIGTERM to the default action in C, behind Python's back: put back
                # the handler Python has on record (a run's StopOnSignal, runs/common.py)
                signal.signal(signal.SIGTERM, on_record)
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


def build_model(geom: DeviceGeometry | ParticleGeometry, name: str = "device") -> None:
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
    if isinstance(geom, ParticleGeometry):
        _build_particle(geom)
    elif geom.dimension == "1d":
        _build_1d(geom)
    else:
        _build_2d_3d(geom)


def write_msh(geom: DeviceGeometry | ParticleGeometry,
              path: str | os.PathLike[str]) -> pathlib.Path:
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


def _set_mesh_options(geom: DeviceGeometry | ParticleGeometry) -> None:
    """Make the size fields the only source of element sizes and fix the element type/order."""
    for option in ("MeshSizeExtendFromBoundary", "MeshSizeFromPoints", "MeshSizeFromCurvature"):
        gmsh.option.setNumber(f"Mesh.{option}", 0)
    gmsh.option.setNumber("Mesh.MeshSizeMin", 0.0)
    gmsh.option.setNumber("Mesh.MeshSizeMax", geom.metal_mesh_size)
    gmsh.option.setNumber("Mesh.ElementOrder", 1)
    gmsh.option.setNumber("Mesh.RecombineAll", 0)  # triangles / tetrahedra only
    gmsh.option.setNumber("Mesh.Algorithm", 6)  # Frontal-Delaunay: good triangles
    # 3D: HXT, gmsh's parallel Delaunay mesher (Marot et al. 2019). With the analytic size field
    # it meshed the 1.0e6-cell benchmark device in 6.3 s on one thread; the serial Delaunay (1)
    # took 47 s for the same size field (load ~2.8). With several threads HXT is not
    # reproducible to the last node; the mesh cache (mesh_cache.py) then keeps runs on one mesh.
    gmsh.option.setNumber("Mesh.Algorithm3D", 10 if geom.dimension == "3d" else 1)
    threads = mesher_threads(geom)
    gmsh.option.setNumber("General.NumThreads", threads)
    gmsh.option.setNumber("Mesh.MaxNumThreads3D", threads)


def mesher_threads(geom: DeviceGeometry) -> int:
    """Threads of gmsh's 3D mesher: ``$ECX_GMSH_THREADS``, default 1.

    One thread is the default because it is reproducible (the same mesh node for node) and was
    not slower on the 2-core development machine: 3.7 s against 4.5-4.9 s with two threads for
    0.8e6 cells at load 2.5. Meshes of 1e7 cells and more on a many-core node gain from threads.
    1D and 2D meshes take under a second and always use one.
    """
    value = os.environ.get(THREADS_ENV, "").strip()
    if geom.dimension != "3d" or not value:
        return 1
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{THREADS_ENV}={value!r}: expected a positive integer")
    return int(value)


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
    field.setAsBackgroundMesh(_with_front_size_field(geom, threshold))
    gmsh.model.mesh.generate(1)


def _build_2d_3d(geom: DeviceGeometry) -> None:
    """Axisymmetric cross-section or full 3D solid: shapes, fragments, groups, sizes, mesh."""
    dim = geom.gdim
    occ = gmsh.model.occ
    wire, cu, tip = _add_shapes_2d(geom) if dim == 2 else _add_shapes_3d(geom)
    # the sub-surface layer: a core shape whose boundary r = R - t_ss splits the wire in two
    # pieces of the one wire region, so the layer's inner edge is a mesh line (exact layer cells)
    cores = [(dim, _add_subsurface_core(geom))] if geom.has_subsurface else []

    # Cut the wire out of both metals first, so the wire stays one clean volume (no internal faces
    # at z = 0 or around the apex lens); fragmenting then only makes the interfaces conformal.
    cu_pieces, _ = occ.cut([(dim, cu)], [(dim, wire)], removeObject=True, removeTool=False)
    w_pieces, _ = occ.cut([(dim, tip)], [(dim, wire)], removeObject=True, removeTool=False)
    pieces = {Region.WIRE: [(dim, wire), *cores], Region.CU: cu_pieces, Region.W: w_pieces}
    pieces.update(_split_layers(geom, cu_pieces, w_pieces))
    names = list(pieces)
    inputs = [piece for name in names for piece in pieces[name]]
    input_group = [name for name in names for _ in pieces[name]]
    _, fragment_map = occ.fragment(inputs[:1], inputs[1:])
    occ.synchronize()

    group_of: dict[int, str] = {}
    for group, outputs in zip(input_group, fragment_map, strict=True):
        for out_dim, out_tag in outputs:
            if out_dim != dim:
                continue
            if group_of.get(out_tag, group) != group:
                raise RuntimeError(f"fragment: entity {out_tag} belongs to two regions")
            group_of[out_tag] = group
    all_cells = {tag for _, tag in gmsh.model.getEntities(dim)}
    if set(group_of) != all_cells:
        raise RuntimeError(f"fragment: unassigned cells {sorted(all_cells - set(group_of))}")
    for group in names:
        cells = sorted(tag for tag, owner in group_of.items() if owner == group)
        if not cells:
            raise RuntimeError(f"fragment: region {group!r} is empty")
        _add_group(dim, cells, group, {**REGION_TAGS, **LAYER_TAGS})
    # a layer belongs to its metal for every purpose but the heat equation's conductivity
    region_of = {tag: Region(LAYERS[g][0]) if g in LAYERS else g for tag, g in group_of.items()}

    facets_of = _classify_facets(geom, region_of)
    for facet, tags in facets_of.items():
        if tags:
            _add_group(dim - 1, sorted(tags), facet, FACET_TAGS)

    if dim == 3 and (geom.cu_contact, geom.w_contact) == ("embedded", "end"):
        size = _add_analytic_size_field(geom)
    else:  # 2D, and side contacts: sampled distances (no closed form written for them)
        size = _add_size_fields(geom, region_of, facets_of)
    if geom.has_subsurface:
        size = _with_subsurface_size_field(geom, size)
    gmsh.model.mesh.field.setAsBackgroundMesh(_with_front_size_field(geom, size))
    gmsh.model.mesh.generate(dim)


def _add_subsurface_core(geom: DeviceGeometry) -> int:
    """The wire's core, r <= R - t_ss over the wire's whole length, as an OCC surface (2D r-z)
    or volume (3D); fragmented with the wire it leaves the layer R - t_ss < r <= R as a piece.

    Returns:
        The entity tag.
    """
    occ = gmsh.model.occ
    core_radius = geom.wire_radius - geom.subsurface_thickness
    length = geom.wire_free_length + geom.cu_contact_length
    if geom.gdim == 2:
        return occ.addRectangle(0.0, -geom.cu_contact_length, 0.0, core_radius, length)
    return occ.addCylinder(0.0, 0.0, -geom.cu_contact_length, 0.0, 0.0, length, core_radius)


def _with_subsurface_size_field(geom: DeviceGeometry, size: int) -> int:
    """``size`` refined to the layer's element size within t_ss of the wire's lateral surface
    (over the wire's length), growing at SIZE_GRADIENT away from it.

    Returns:
        The tag of the combined (Min) field.
    """
    side = _segment_distance(geom.gdim, -geom.cu_contact_length, geom.wire_radius,
                             geom.wire_free_length, geom.wire_radius)
    return _refined_near(geom, size, side, geom.subsurface_size, geom.subsurface_thickness)


#: Element size at a contact rim that lies in a front's band, relative to the front size, and
#: the radius of that refinement in front widths. Stage (c)'s W rim lies on its front: its +1 V
#: current changed by 42 % from front cells of 0.25 nm to 0.125 nm and by 12 % more at
#: 0.0625 nm; with 0.0625 nm cells within 0.5 nm of the rim alone it changed by 0.26 % when every
#: size was halved (2026-12-06).
RIM_SIZE_FACTOR = 0.25
RIM_BAND_WIDTHS = 0.5


def _with_front_size_field(geom: DeviceGeometry, size: int) -> int:
    """``size`` refined to the front size within front_band of the prescribed composition's
    fronts, growing at SIZE_GRADIENT away from them (``size`` itself without a front size),
    and further at each contact rim on a front (:meth:`DeviceGeometry.contact_rims_on_fronts`).

    Returns:
        The tag of the combined (Min) field, or ``size``.
    """
    if geom.front_mesh_size is None:
        return size
    distance = ""
    for z0, r0, z1, r1 in geom.front_lines():
        if geom.gdim == 1:  # the 1D wire's fronts lie across it (z0 == z1): only z counts
            r0 = r1 = 0.0
        to_segment = _segment_distance(geom.gdim, z0, r0, z1, r1)
        distance = f"Min({distance}, {to_segment})" if distance else to_segment
    size = _refined_near(geom, size, distance, geom.front_mesh_size, geom.front_band)
    for z, r in geom.contact_rims_on_fronts():
        size = _refined_near(geom, size, _segment_distance(geom.gdim, z, r, z, r),
                             RIM_SIZE_FACTOR * geom.front_mesh_size,
                             RIM_BAND_WIDTHS / FRONT_BAND_WIDTHS * geom.front_band)
    return size


def _segment_distance(gdim: int, z0: float, r0: float, z1: float, r1: float) -> str:
    """MathEval formula of the distance (nm) to the axis-aligned segment from (z0, r0) to
    (z1, r1) of the (z, r) half-plane: in 3D the distance to the cylinder or annulus it sweeps
    about the axis, in 1D (x = z, r = 0) to the plane z = z0 (pass r0 = r1 = 0)."""
    rho, z = {1: ("0", "x"), 2: ("Abs(x)", "y"), 3: ("Sqrt(x*x + y*y)", "z")}[gdim]
    return (f"Sqrt(Max(Max(({z0}) - {z}, {z} - ({z1})), 0)^2"
            f" + Max(Max(({r0}) - {rho}, {rho} - ({r1})), 0)^2)")


def _refined_near(geom: DeviceGeometry, size: int, distance: str, size_near: float,
                  band: float) -> int:
    """Min of the field ``size`` and a MathEval field: ``size_near`` within ``band`` (nm) of
    the ``distance`` formula's zero set, growing at SIZE_GRADIENT to the metal size. A formula
    costs a few operations per query (Distance fields search sampled points). Returns its tag."""
    grow = f"{size_near} + {SIZE_GRADIENT} * Max(({distance}) - {band}, 0)"
    field = gmsh.model.mesh.field
    near = field.add("MathEval")
    field.setString(near, "F", f"Min({grow}, {geom.metal_mesh_size})")
    combined = field.add("Min")
    field.setNumbers(combined, "FieldsList", [size, near])
    return combined


def _split_layers(geom: DeviceGeometry, cu_pieces: list, w_pieces: list) -> dict[str, list]:
    """Split off each metal's part within contact_layer_thickness of the wire (the layers that
    carry the thermal boundary conductance); the metal pieces lists are updated in place.

    Returns:
        Layer group name -> its OCC pieces; empty without a layer.
    """
    t = geom.contact_layer_thickness
    if t == 0:
        return {}
    occ = gmsh.model.occ
    dim, a = geom.gdim, geom.wire_radius
    z0, length = -geom.cu_contact_length - t, geom.wire_free_length + geom.cu_contact_length + 2 * t
    if dim == 2:
        dilated = (dim, occ.addRectangle(0.0, z0, 0.0, a + t, length))
    else:
        dilated = (dim, occ.addCylinder(0.0, 0.0, z0, 0.0, 0.0, length, a + t))
    layers = {}
    for name, metal in ((LAYER_NAMES[Region.CU], cu_pieces), (LAYER_NAMES[Region.W], w_pieces)):
        layer, _ = occ.intersect(metal, [dilated], removeObject=False, removeTool=False)
        bulk, _ = occ.cut(metal, [dilated], removeObject=True, removeTool=False)
        metal[:] = bulk
        layers[name] = layer
    occ.remove([dilated], recursive=True)
    return layers


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
    """Wire, Cu and W tip as OCC volumes with the wire's axis along z.

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
    if geom.cu_contact == "side":  # a block whose top face cuts into the wire's side
        top, half = geom.cu_side_top, geom.cu_radius
        cu = occ.addBox(top - geom.cu_thickness, -half, -half, geom.cu_thickness, 2 * half, half)
    else:
        cu = occ.addCylinder(0.0, 0.0, -geom.cu_thickness, 0.0, 0.0, geom.cu_thickness,
                             geom.cu_radius)
    tip = _add_w_tip_3d(geom)
    if geom.w_contact == "side":
        # built on the wire's axis with its apex at z = a - depth, then turned so its axis runs
        # along +x (a rotation of pi/2 about y takes (0, 0, z) to (z, 0, 0)) and moved to its
        # place before the wire's end
        shift = geom.wire_radius - geom.w_contact_depth - geom.w_apex_z
        occ.translate([(3, tip)], 0.0, 0.0, shift)
        occ.rotate([(3, tip)], 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.5 * math.pi)
        occ.translate([(3, tip)], 0.0, 0.0, geom.wire_free_length - geom.w_side_offset)
    return wire, cu, tip


def _add_w_tip_3d(geom: DeviceGeometry) -> int:
    """The W tip on the z axis, apex at w_apex_z: a spherical cap fused with a cone."""
    occ = gmsh.model.occ
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
    return fused[0][1]


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
    # OCC bounding boxes are padded by its tolerance; compare with a margin well above that but far
    # below any device feature.
    tolerance = 1e-6 * max(geom.cu_radius, geom.w_far_z + geom.cu_thickness)
    facets_of: dict[Facet, set[int]] = {facet: set() for facet in Facet}

    def flat_at(box: np.ndarray, plane: tuple[int, float]) -> bool:
        axis, value = plane
        return abs(box[axis] - value) < tolerance and abs(box[3 + axis] - value) < tolerance

    for _, tag in gmsh.model.getEntities(dim - 1):
        upward, _ = gmsh.model.getAdjacencies(dim - 1, tag)
        regions = {region_of[int(cell)] for cell in upward}
        if len(upward) == 2 and len(regions) == 1:
            continue  # inside one region (a contact layer against its metal): no group
        box = np.asarray(gmsh.model.getBoundingBox(dim - 1, tag))
        on_axis = dim == 2 and abs(box[0]) < tolerance and abs(box[3]) < tolerance
        if len(upward) == 2 and regions == {Region.WIRE}:
            continue  # the sub-surface layer's inner edge: interior to the wire, not a group
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
            facet = Facet.CU_SINK if flat_at(box, geom.sink_plane("cu")) else Facet.CU_SURFACE
        else:
            facet = Facet.W_SINK if flat_at(box, geom.sink_plane("w")) else Facet.W_SURFACE
        facets_of[facet].add(tag)
    return facets_of


def _add_size_fields(
    geom: DeviceGeometry, region_of: dict[int, Region], facets_of: dict[Facet, set[int]]
) -> int:
    """Background size: contact size near the interfaces, wire size in the wire, metal far away;
    returns the field's tag (the caller sets it as the background mesh).

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
    return combined


def _add_analytic_size_field(geom: DeviceGeometry) -> int:
    """The size field of :func:`_add_size_fields` with exact distances written as formulas (3D);
    returns the field's tag.

    Same sizes: contact size within one wire radius of the interfaces, wire size within one
    radius of the wire surface, both growing at SIZE_GRADIENT to the metal size. Distance
    fields sample the facets and answer each query by a point search; they took ~95 % of the 3D
    meshing time (HXT: 61 s for 0.81e6 cells with them, 2.8 s for 0.94e6 cells of a constant
    size). The interfaces are cylinders and disks, so their distances have closed forms, which
    MathEval evaluates in a few operations.
    """
    a, z_foot, z_end = geom.wire_radius, -geom.cu_contact_length, geom.wire_free_length
    rho = "Sqrt(x*x + y*y)"

    def side(z0: float, z1: float) -> str:  # distance to the lateral surface rho = a, z0..z1
        return f"Sqrt(({rho} - {a})^2 + Max(Max(({z0}) - z, z - ({z1})), 0)^2)"

    def disk(z0: float, radius: float) -> str:  # distance to the disk z = z0, rho <= radius
        return f"Sqrt(Max({rho} - {radius}, 0)^2 + (z - ({z0}))^2)"

    # the wire's closed surface, from outside (first term) or inside (second term)
    wire = (f"Sqrt(Max({rho} - {a}, 0)^2 + Max(Max(({z_foot}) - z, z - {z_end}), 0)^2)"
            f" + Max(Min(Min({a} - {rho}, z - ({z_foot})), {z_end} - z), 0)")
    cu_wire = f"Min({side(z_foot, 0.0)}, {disk(z_foot, a)})"
    contact_radius = geom.w_contact_radius
    w_wire = disk(z_end, min(contact_radius, a))
    if contact_radius > a:  # the W|wire interface also covers a band of the wire's side
        w_wire = f"Min({w_wire}, {side(geom._w_tip_z_at_radius(a), z_end)})"

    def threshold(distance: str, size_min: float) -> str:
        grow = f"{size_min} + {SIZE_GRADIENT} * Max(({distance}) - {a}, 0)"
        return f"Min({grow}, {geom.metal_mesh_size})"

    field = gmsh.model.mesh.field
    size = field.add("MathEval")
    near_interfaces = threshold(f"Min({cu_wire}, {w_wire})", geom.contact_mesh_size)
    near_wire = threshold(wire, geom.wire_mesh_size)
    field.setString(size, "F", f"Min({near_interfaces}, {near_wire})")
    return size


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


# --------------------------------------------------------------------------------------------------
# Particles (sphere or rod, no electrodes; device.geometry.ParticleGeometry)


def _build_particle(geom: ParticleGeometry) -> None:
    """A particle as the ``wire`` region: the interval [0, L] of a rod (1d), or the r-z section
    of a rod (rectangle) or sphere (half disk), with ``axis``, ``wire_surface`` and one
    ``donor_<i>`` facet group per donor contact; refined to the contact size near the donors
    (or, in a bath, near the whole surface)."""
    if geom.dimension == "1d":
        _build_particle_1d(geom)
        return
    occ = gmsh.model.occ
    curves = _sphere_section(geom) if geom.shape == "sphere" else _rod_section(geom)
    surface = occ.addPlaneSurface([occ.addCurveLoop([tag for tag, _ in curves])])
    occ.synchronize()
    _add_group(2, [surface], Region.WIRE, REGION_TAGS)
    groups: dict[str, list[int]] = {}
    for tag, name in curves:
        groups.setdefault(name, []).append(tag)
    for name, tags in groups.items():
        tag_of = ({name: DONOR_TAG_BASE + int(name.split("_")[1])}
                  if name.startswith("donor_") else FACET_TAGS)
        _add_group(1, tags, name, tag_of)
    refine = [t for n, ts in groups.items() if n.startswith("donor_") for t in ts] or \
        groups[Facet.WIRE_SURFACE]
    near = max((d.radius for d in geom.donors), default=2 * geom.mesh_size)
    field = gmsh.model.mesh.field
    distance = field.add("Distance")
    field.setNumbers(distance, "CurvesList", refine)
    field.setNumber(distance, "Sampling", 200)
    field.setAsBackgroundMesh(_add_threshold(distance, geom.contact_mesh_size, geom.mesh_size,
                                             near))
    gmsh.model.mesh.generate(2)


def _particle_points(occ, points: list[tuple[float, float]]) -> list[int]:
    return [occ.addPoint(r, z, 0.0) for r, z in points]


def _sphere_section(geom: ParticleGeometry) -> list[tuple[int, str]]:
    """Half disk r >= 0 of radius R centred at the origin: two arcs and the axis."""
    occ = gmsh.model.occ
    R = geom.radius
    south, east, north, centre = _particle_points(occ, [(0, -R), (R, 0), (0, R), (0, 0)])
    curves = [(occ.addCircleArc(south, centre, east), Facet.WIRE_SURFACE),
              (occ.addCircleArc(east, centre, north), Facet.WIRE_SURFACE),
              (occ.addLine(north, south), Facet.AXIS)]
    occ.remove([(0, centre)])
    return curves


def _rod_section(geom: ParticleGeometry) -> list[tuple[int, str]]:
    """Rectangle [0, R] x [0, L] walked anticlockwise (bottom, side, top, axis), its edges
    split where donor contacts begin and end; each edge piece is named."""
    R, L = geom.radius, geom.length
    # (r, z) corners and split points, each with the name of the piece that starts there
    bottom = sorted([(d.radius, i) for i, d in enumerate(geom.donors) if d.at == "bottom"])
    side = sorted([(d.z, d.radius, i) for i, d in enumerate(geom.donors) if d.at == "side"])
    top = sorted([(d.radius, i) for i, d in enumerate(geom.donors) if d.at == "top"])
    walk: list[tuple[float, float, str]] = []
    if bottom:
        r, i = bottom[0]
        walk += [(0.0, 0.0, donor_facet(i)), (r, 0.0, Facet.WIRE_SURFACE)]
    else:
        walk.append((0.0, 0.0, Facet.WIRE_SURFACE))
    walk.append((R, 0.0, Facet.WIRE_SURFACE))
    for z, half, i in side:
        walk += [(R, z - half, donor_facet(i)), (R, z + half, Facet.WIRE_SURFACE)]
    walk.append((R, L, Facet.WIRE_SURFACE))
    if top:
        r, i = top[0]
        walk += [(r, L, donor_facet(i))]
    walk.append((0.0, L, Facet.AXIS))
    occ = gmsh.model.occ
    tags = _particle_points(occ, [(r, z) for r, z, _ in walk])
    return [(occ.addLine(tags[k], tags[(k + 1) % len(tags)]), walk[k][2])
            for k in range(len(tags))]


def _build_particle_1d(geom: ParticleGeometry) -> None:
    """A rod as the interval [0, L] on x; donors on its end points."""
    occ = gmsh.model.occ
    ends = {"bottom": occ.addPoint(0.0, 0.0, 0.0), "top": occ.addPoint(geom.length, 0.0, 0.0)}
    rod = occ.addLine(ends["bottom"], ends["top"])
    occ.synchronize()
    _add_group(1, [rod], Region.WIRE, REGION_TAGS)
    for i, d in enumerate(geom.donors):
        _add_group(0, [ends[d.at]], donor_facet(i), {donor_facet(i): DONOR_TAG_BASE + i})
    gmsh.model.mesh.setSize(gmsh.model.getEntities(0), geom.mesh_size)
    gmsh.option.setNumber("Mesh.MeshSizeFromPoints", 1)
    gmsh.model.mesh.generate(1)
