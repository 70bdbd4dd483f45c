"""The Domain: a DOLFINx mesh with named regions and SI-weighted integration measures.

Mesh coordinates are nanometres (:data:`ecx_device.units.MESH_UNIT` metres per unit). The Domain
hides that and the coordinate system from the physics: ``domain.grad(u)`` is the SI gradient and
``domain.volume(f, ...)`` / ``domain.surface(f, ...)`` integrate over physical volume (m^3) and
area (m^2):

- 3D: dV = s^3 dx;
- axisymmetric (x = r, y = z): dV = 2 pi r s^3 dx, dA = 2 pi r s^2 ds;
- spherical (1D radial, x = r): dV = 4 pi r^2 s^3 dx, dA = 4 pi r^2 s^2 at a point (tests);
- 1D (the wire alone, electrodes lumped): dV = A s dx with the wire cross-section A, and the
  lateral wire surface is dA = P s dx with its perimeter P, so surface losses become a sink per
  unit length.
"""

from __future__ import annotations

import math
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ecx_device.device.geometry import DeviceGeometry, ParticleGeometry
from ecx_device.device.mesh_cache import cache_dir, cached_mesh, cached_mesh_file, load_arrays
from ecx_device.device.names import LAYERS, Facet, Region
from ecx_device.errors import CaseError
from ecx_device.fem import MPI, dolfinx, ufl
from ecx_device.outputs.quantities import write_json
from ecx_device.units import MESH_UNIT


def _idle_barrier(comm, poll: float = 0.05) -> None:
    """A barrier that sleeps between polls (s) instead of busy-waiting in MPI."""
    import time

    request = comm.Ibarrier()
    while not request.Test():
        time.sleep(poll)


def _distribute(folder: Path, comm, tdim: int):
    """The mesh of a cache entry (:mod:`ecx_device.device.mesh_cache`) as DOLFINx ``MeshData``.

    Each rank reads a contiguous slice of the cells, nodes and facets (memory-mapped) and DOLFINx
    partitions and distributes in parallel; a cell's tag is read at its input index
    (``original_cell_index``), facets are tagged as ``dolfinx.io.gmsh.model_to_mesh`` does.
    """
    gmsh_io = dolfinx.io.gmsh
    arrays, groups = load_arrays(folder)

    def mine(a: np.ndarray) -> np.ndarray:
        n = len(a)
        return np.ascontiguousarray(a[comm.rank * n // comm.size:(comm.rank + 1) * n // comm.size])

    gmsh_cell = {1: 1, 2: 2, 3: 4}[tdim]  # gmsh's line, triangle, tetrahedron
    domain = gmsh_io.ufl_mesh(gmsh_cell, tdim, dtype=np.float64)
    perm = gmsh_io.cell_perm_array(dolfinx.cpp.mesh.to_type(str(domain.ufl_cell())), tdim + 1)
    mesh = dolfinx.mesh.create_mesh(comm, mine(arrays["cells"])[:, perm], domain,
                                    mine(arrays["x"])[:, :tdim].copy())
    cell_map = mesh.topology.index_map(tdim)
    n_cells = cell_map.size_local + cell_map.num_ghosts
    cell_tags = dolfinx.mesh.meshtags(
        mesh, tdim, np.arange(n_cells, dtype=np.int32),
        np.asarray(arrays["cell_values"][mesh.topology.original_cell_index[:n_cells]],
                   dtype=np.int32))
    local, values = dolfinx.io.utils.distribute_entity_data(
        mesh, tdim - 1, mine(arrays["facets"]), mine(arrays["facet_values"]))
    mesh.topology.create_connectivity(tdim - 1, tdim)
    facet_tags = dolfinx.mesh.meshtags_from_entities(
        mesh, tdim - 1, dolfinx.graph.adjacencylist(local), values.astype(np.int32))
    cell_tags.name, facet_tags.name = "cell_tags", "facet_tags"
    physical = {name: gmsh_io.PhysicalGroup(dim, tag) for name, (dim, tag) in groups.items()}
    return gmsh_io.MeshData(mesh, cell_tags, facet_tags, None, None, physical)


def _fold_layers(mesh, cell_tags, cells: dict[str, int]):
    """Give the cells of each contact layer (device/names.LAYERS) their metal's tag, so every
    region-wise form sees the metal whole; ``cells`` loses the layer groups.

    Returns:
        (cell tags, {interface facet group: local layer cells}).
    """
    present = {name: cells.pop(name) for name in list(cells) if name in LAYERS}
    if not present:
        return cell_tags, {}
    values = cell_tags.values.copy()
    layer_cells = {}
    for name, tag in present.items():
        metal, interface = LAYERS[name]
        hit = cell_tags.values == tag
        layer_cells[str(interface)] = cell_tags.indices[hit].astype(np.int32)
        values[hit] = cells[metal]
    tags = dolfinx.mesh.meshtags(mesh, mesh.topology.dim, cell_tags.indices, values)
    tags.name = cell_tags.name
    return tags, layer_cells


@dataclass(frozen=True)
class CellPairs:
    """The cells of a restricted Domain (:meth:`Domain.restrict`) and the parent cells they are,
    local numbering, owned and ghost; moves Functions between the two meshes.

    Attributes:
        sub: Cell indices on the submesh (0 .. n-1).
        parent: The same cells' indices on the parent mesh.
    """

    sub: np.ndarray
    parent: np.ndarray

    def to_sub(self, source, target) -> None:
        """Interpolate ``source`` (on the parent mesh) into ``target`` (on the submesh)."""
        target.interpolate(source, cells0=self.parent, cells1=self.sub)
        target.x.scatter_forward()

    def to_parent(self, source, target) -> None:
        """Interpolate ``source`` (on the submesh) into ``target`` (on the parent mesh; cells
        outside the submesh keep their values)."""
        target.interpolate(source, cells0=self.sub, cells1=self.parent)
        target.x.scatter_forward()


@dataclass
class Domain:
    """Mesh, tags and the name -> tag maps of the regions and facet groups.

    Attributes:
        mesh: The DOLFINx mesh (coordinates in nm).
        cell_tags: Region tags of the cells.
        facet_tags: Tags of the named facet groups.
        cells: Region name -> tag.
        facets: Facet-group name -> tag.
        dimension: "1d", "axisymmetric", "3d", "spherical" (1D radial, r = x >= 0, dV =
            4 pi r^2 dr, used by verification tests) or "planar" (2D Cartesian per metre of depth,
            used by verification tests).
        wire_diameter: Wire diameter (m), used for the lumped 1D cross-section.
    """

    mesh: dolfinx.mesh.Mesh
    cell_tags: dolfinx.mesh.MeshTags
    facet_tags: dolfinx.mesh.MeshTags
    cells: dict[str, int]
    facets: dict[str, int]
    dimension: str
    wire_diameter: float
    #: Further entries of markers.json (e.g. the element names of a particle's host and guest).
    extra: dict = field(default_factory=dict)
    #: Thickness (m) of the resolved sub-surface layer under the wire's lateral surface, None if
    #: the mesh has none (physics/ion_transport.py; the wire stays one region).
    subsurface_thickness: float | None = None
    #: Cells of each contact layer (device/names.LAYERS), keyed by the interface facet group
    #: (``cu_wire``, ``w_wire``); local indices. The cells also belong to their metal's region.
    layer_cells: dict[str, np.ndarray] = field(default_factory=dict)
    #: Thickness of the contact layers (m); 0 without layers.
    layer_thickness: float = 0.0

    # -- construction ---------------------------------------------------------------------------
    @classmethod
    def from_mesh_data(cls, data, dimension: str, wire_diameter: float) -> Domain:
        """Build from the ``MeshData`` returned by ``dolfinx.io.gmsh``."""
        tdim = data.mesh.topology.dim
        cells = {n: g.tag for n, g in data.physical_groups.items() if g.dim == tdim}
        facets = {n: g.tag for n, g in data.physical_groups.items() if g.dim == tdim - 1}
        cell_tags, layer_cells = _fold_layers(data.mesh, data.cell_tags, cells)
        domain = cls(data.mesh, cell_tags, data.facet_tags, cells, facets, dimension,
                     wire_diameter, layer_cells=layer_cells)
        domain.mesh.topology.create_connectivity(tdim - 1, tdim)
        return domain

    @classmethod
    def from_geometry(cls, geom: DeviceGeometry | ParticleGeometry,
                      comm=MPI.COMM_WORLD) -> Domain:
        """Mesh ``geom`` on rank 0 (or find it in the mesh cache) and distribute it."""
        domain = cls._from_cache(lambda: cached_mesh(geom), geom.dimension,
                                 geom.wire_diameter * MESH_UNIT, comm)
        if getattr(geom, "has_subsurface", False):
            domain.subsurface_thickness = geom.subsurface_thickness * MESH_UNIT
        domain.layer_thickness = getattr(geom, "contact_layer_thickness", 0.0) * MESH_UNIT
        return domain

    @classmethod
    def from_msh(cls, path: str | Path, dimension: str, wire_diameter: float,
                 comm=MPI.COMM_WORLD) -> Domain:
        """Read a mesh written by ``ecx-device mesh`` (.msh, via the mesh cache) and distribute
        it; wire_diameter in m."""
        path = Path(path)
        if not comm.bcast(path.is_file() if comm.rank == 0 else None, root=0):
            raise CaseError(f"mesh file {str(path)!r} does not exist")
        tdim = {"1d": 1, "axisymmetric": 2, "3d": 3}[dimension]
        return cls._from_cache(lambda: cached_mesh_file(path, tdim), dimension, wire_diameter,
                               comm)

    @classmethod
    def _from_cache(cls, entry, dimension: str, wire_diameter: float, comm) -> Domain:
        """Rank 0 gets the cache entry (``entry() -> (folder, hit)``, meshing on a miss), then
        every rank reads its part. The mesh always comes from the entry, also right after
        meshing, so every run of one geometry partitions the very same mesh. While rank 0
        meshes, the other ranks wait without spinning on MPI, which would take the cores of
        gmsh's threads."""
        folder, error = None, None
        if comm.rank == 0:
            try:
                folder, _ = entry()
            except Exception as err:  # raised below, after the other ranks have been told
                error = err
        _idle_barrier(comm)
        folder = comm.bcast(str(folder) if folder else None, root=0)
        if error is not None:
            raise error
        if folder is None:
            raise RuntimeError("meshing failed on rank 0 (its error message says why)")
        tdim = {"1d": 1, "axisymmetric": 2, "3d": 3}[dimension]
        domain = cls.from_mesh_data(_distribute(Path(folder), comm, tdim), dimension,
                                    wire_diameter)
        comm.barrier()  # every rank has read the entry
        if comm.rank == 0 and cache_dir() is None:  # cache off: the entry was a temporary one
            shutil.rmtree(Path(folder).parent, ignore_errors=True)
        return domain

    # -- geometry helpers ---------------------------------------------------------------------
    @property
    def gdim(self) -> int:
        """Geometric dimension of the mesh."""
        return self.mesh.geometry.dim

    @property
    def axial_index(self) -> int:
        """Index of the wire-axis coordinate (the last one)."""
        return self.gdim - 1

    @property
    def wire_area(self) -> float:
        """Wire cross-section (m^2)."""
        return math.pi * self.wire_diameter**2 / 4

    @property
    def wire_perimeter(self) -> float:
        """Wire perimeter (m)."""
        return math.pi * self.wire_diameter

    def has_region(self, name: str) -> bool:
        """True if the mesh has the named cell region."""
        return name in self.cells

    def grad(self, u):
        """SI gradient (per metre) of a field on the nm mesh."""
        return ufl.grad(u) / MESH_UNIT

    def position(self):
        """Spatial coordinate in metres (UFL vector)."""
        return ufl.SpatialCoordinate(self.mesh) * MESH_UNIT

    def _volume_weight(self):
        s = MESH_UNIT
        if self.dimension == "axisymmetric":
            return 2 * math.pi * ufl.SpatialCoordinate(self.mesh)[0] * s**3
        if self.dimension == "spherical":
            return 4 * math.pi * ufl.SpatialCoordinate(self.mesh)[0] ** 2 * s**3
        if self.dimension == "1d":
            return self.wire_area * s
        if self.dimension == "planar":
            return s**2  # per metre of depth
        return s**3

    def _surface_weight(self):
        s = MESH_UNIT
        if self.dimension == "axisymmetric":
            return 2 * math.pi * ufl.SpatialCoordinate(self.mesh)[0] * s**2
        if self.dimension == "spherical":
            return 4 * math.pi * ufl.SpatialCoordinate(self.mesh)[0] ** 2 * s**2
        if self.dimension == "1d":
            return self.wire_area  # an end point of the 1D wire stands for its cross-section
        if self.dimension == "planar":
            return s
        return s**2

    def _centroid_weight(self, surface: bool):
        """The measure weight with r frozen at each cell's centroid (axisymmetric), so that a
        vertex (lumped) quadrature gives every node, also those on the axis, a positive mass."""
        if self.dimension not in ("axisymmetric", "spherical"):
            return self._surface_weight() if surface else self._volume_weight()
        if not hasattr(self, "_r_centroid"):
            V0 = dolfinx.fem.functionspace(self.mesh, ("DG", 0))
            self._r_centroid = dolfinx.fem.Function(V0)
            self._r_centroid.interpolate(lambda x: x[0])  # DG0 interpolation: the midpoint
        s = MESH_UNIT
        if self.dimension == "spherical":  # r^2 averaged over the cell: its exact volume
            h = ufl.CellVolume(self.mesh)
            return self._surface_weight() if surface else 4 * math.pi * (
                self._r_centroid**2 + h * h / 12) * s**3
        return 2 * math.pi * self._r_centroid * (s**2 if surface else s**3)

    def volume(self, integrand, *regions: str, lumped: bool = False):
        """Integral of ``integrand`` over the named regions (all cells if none), physical volume.

        ``lumped``: vertex quadrature (mass lumping of P1 terms: each node's value enters only its
        own row, which keeps reaction and storage terms of concentrations monotone)."""
        if lumped:
            dx = ufl.Measure("dx", domain=self.mesh, subdomain_data=self.cell_tags,
                             metadata={"quadrature_rule": "vertex", "quadrature_degree": 1})
            w = self._centroid_weight(surface=False)
        else:
            dx = ufl.Measure("dx", domain=self.mesh, subdomain_data=self.cell_tags)
            w = self._volume_weight()
        if not regions:
            return integrand * w * dx
        tags = tuple(self.cells[r] for r in regions if r in self.cells)
        if not tags:
            return 0  # UFL forms absorb an integer zero: a region absent here adds nothing
        return integrand * w * dx(tags)

    def surface(self, integrand, *facet_groups: str, lumped: bool = False):
        """Integral of ``integrand`` over named facet groups (physical area).

        In 1D the lateral wire surface (``wire_surface``) is a line density on the wire cells.
        ``lumped``: vertex quadrature, as in :meth:`volume`.
        """
        if self.dimension == "1d" and Facet.WIRE_SURFACE in facet_groups:
            others = tuple(f for f in facet_groups if f != Facet.WIRE_SURFACE)
            lateral = self.volume(integrand * (self.wire_perimeter / self.wire_area),
                                  Region.WIRE, lumped=lumped)
            return (lateral + self.surface(integrand, *others, lumped=lumped) if others
                    else lateral)
        tags = tuple(self.facets[f] for f in facet_groups if f in self.facets)
        if not tags:
            return 0
        if lumped and self.mesh.topology.dim > 1:  # a point facet needs no lumping (and FFCx
            # has no vertex rule for points)
            ds = ufl.Measure("ds", domain=self.mesh, subdomain_data=self.facet_tags,
                             metadata={"quadrature_rule": "vertex", "quadrature_degree": 1})
            return integrand * self._centroid_weight(surface=True) * ds(tags)
        ds = ufl.Measure("ds", domain=self.mesh, subdomain_data=self.facet_tags)
        return integrand * self._surface_weight() * ds(tags)

    def facet_entities(self, name: str) -> np.ndarray:
        """Local indices of the facets in a named group."""
        return self.facet_tags.find(self.facets[name])

    def layer_indicator(self, interface: str):
        """DG0 Function: 1 on the cells of the contact layer of ``interface`` (a facet group,
        ``cu_wire`` or ``w_wire``), 0 elsewhere; None if the mesh has no such layer on any
        rank."""
        cache = self.__dict__.setdefault("_layer_indicators", {})
        if interface not in cache:
            cells = self.layer_cells.get(interface)
            anywhere = self.mesh.comm.allreduce(0 if cells is None else len(cells), op=MPI.SUM)
            if not anywhere:
                cache[interface] = None
            else:
                V0 = dolfinx.fem.functionspace(self.mesh, ("DG", 0))
                chi = dolfinx.fem.Function(V0, name=f"{interface}_layer")
                if cells is not None and len(cells):
                    chi.x.array[V0.dofmap.list[cells, 0]] = 1.0
                chi.x.scatter_forward()
                cache[interface] = chi
        return cache[interface]

    def region_cells(self, name: str) -> np.ndarray:
        """Local indices of the cells in a named region."""
        return self.cell_tags.find(self.cells[name])

    def restrict(self, region: str) -> tuple[Domain, CellPairs]:
        """The Domain of one region alone (a DOLFINx submesh), for fields that live there only.

        Facets of the submesh's boundary keep the parent's group names: an interface such as
        ``cu_wire``, interior in the device, is an outer facet group of the restricted wire, so
        contact terms integrate over it with ``surface()``.

        Returns:
            The restricted Domain and its :class:`CellPairs` with the parent.
        """
        tdim = self.mesh.topology.dim
        fdim = tdim - 1
        sub, cell_map, vertex_map, _ = dolfinx.mesh.create_submesh(
            self.mesh, tdim, self.region_cells(region))
        sub.topology.create_connectivity(fdim, tdim)
        sub.topology.create_connectivity(fdim, 0)
        self.mesh.topology.create_connectivity(fdim, 0)
        # Match facets by their vertices: a submesh facet and its parent share the same vertex set.
        parent_f2v = self.mesh.topology.connectivity(fdim, 0)
        by_vertices = {tuple(sorted(parent_f2v.links(f))): (f, tag)
                       for f, tag in zip(self.facet_tags.indices, self.facet_tags.values)}
        sub_f2v = sub.topology.connectivity(fdim, 0)
        ext = dolfinx.mesh.exterior_facet_indices(sub.topology)
        facets, values = [], []
        for f in ext:
            parent_vertices = vertex_map.sub_topology_to_topology(sub_f2v.links(f), inverse=False)
            hit = by_vertices.get(tuple(sorted(parent_vertices)))
            if hit is not None:
                facets.append(f)
                values.append(hit[1])
        order = np.argsort(facets)
        ftags = dolfinx.mesh.meshtags(sub, fdim, np.asarray(facets, dtype=np.int32)[order],
                                      np.asarray(values, dtype=np.int32)[order])
        ncell = sub.topology.index_map(tdim).size_local + sub.topology.index_map(tdim).num_ghosts
        sub_cells = np.arange(ncell, dtype=np.int32)
        pairs = CellPairs(sub_cells, np.asarray(
            cell_map.sub_topology_to_topology(sub_cells, False), dtype=np.int32))
        tag = self.cells[region]
        ctags = dolfinx.mesh.meshtags(sub, tdim, sub_cells,
                                      np.full(ncell, tag, dtype=np.int32))
        # a group may have no facet on this rank: name every group present on any rank, so all
        # ranks build the same forms (an absent name would make a rank's form an integer 0)
        present = set().union(*self.mesh.comm.allgather(set(np.unique(values).tolist())))
        facets_named = {n: t for n, t in self.facets.items() if t in present}
        return (Domain(sub, ctags, ftags, {region: tag}, facets_named, self.dimension,
                       self.wire_diameter, subsurface_thickness=self.subsurface_thickness), pairs)

    def write_markers(self, path: Path) -> None:
        """Write the name -> tag tables (JSON, rank 0)."""
        write_json(path, {"cells": self.cells, "facets": self.facets,
                          "dimension": self.dimension,
                          "wire_diameter_nm": self.wire_diameter / MESH_UNIT, **self.extra},
                   self.mesh.comm.rank)
