"""Mesh cache: a meshed device geometry is stored once as plain arrays and read back afterwards.

A sweep over biases, materials or protocols meshes the same geometry again and again; 3D meshes
of ~1e6 tetrahedra take seconds to tens of seconds. :func:`cached_mesh` returns the cache entry of
a :class:`~ecx_device.device.geometry.DeviceGeometry`, meshing it with gmsh only when the cache
lacks it; :func:`cached_mesh_file` does the same for a user's .msh file (``geometry.mesh_file``).

An entry is a folder of NumPy arrays (:data:`ARRAYS`: node coordinates in nm, cell and facet
node indices, their physical-group tags) and ``groups.json`` (name -> [dim, tag]). Every MPI
rank reads its own slice of the arrays (memory-mapped) and DOLFINx partitions the mesh in
parallel (:meth:`ecx_device.mesh.Domain.from_cache`): no rank gathers or scatters the whole mesh.

The key of a geometry is a hash of every field of the geometry (dimensions and mesh sizes), the
gmsh version and the source of :mod:`ecx_device.device.gmsh_model`, of
:mod:`ecx_device.device.geometry` (whose derived shapes and refinement places the mesher reads)
and of this module (so a changed mesher or layout never serves an old entry); a mesh file's key
is a hash of its bytes.
Entries are written to a temporary folder and renamed, so concurrent runs (``sweep --jobs``) at
worst mesh the same geometry twice and keep one of the results. The threaded 3D mesher is not
reproducible to the last node, so the cache is also what makes every run and restart of one
geometry see the very same mesh (checkpoints rely on it).

Where: ``$ECX_MESH_CACHE`` if set, else ``$XDG_CACHE_HOME/ecx_device/meshes`` (default
``~/.cache/ecx_device/meshes``); on a cluster it must be a folder every node sees.
``ECX_MESH_CACHE=off`` disables the cache (each run meshes into a temporary folder). Clearing it
is always safe: ``rm -rf ~/.cache/ecx_device/meshes``.

Only gmsh and NumPy are used here, not DOLFINx.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import gmsh
import numpy as np

from ecx_device.device import geometry, gmsh_model
from ecx_device.device.geometry import DeviceGeometry

__all__ = ["ARRAYS", "cache_dir", "cache_key", "cached_mesh", "cached_mesh_file", "load_arrays"]

#: Environment variable naming the cache folder ("off" disables the cache).
ENV = "ECX_MESH_CACHE"

#: The arrays of an entry: node coordinates (n, 3; nm), cells and facets as 0-based node indices
#: (int64, gmsh = DOLFINx vertex order for first-order simplices), their group tags (int32).
ARRAYS = ("x", "cells", "cell_values", "facets", "facet_values")


def cache_dir() -> Path | None:
    """The cache folder (created on first write), or None when the cache is off."""
    value = os.environ.get(ENV, "").strip()
    if value.lower() in ("off", "0", "false", "no"):
        return None
    if value:
        return Path(value).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "ecx_device" / "meshes"


def cache_key(geom: DeviceGeometry) -> str:
    """Hex digest identifying the mesh of ``geom`` (module docstring lists what it covers)."""
    sources = b"".join(Path(f).read_bytes()
                       for f in (gmsh_model.__file__, geometry.__file__, __file__))
    payload = json.dumps({
        "geometry": dataclasses.asdict(geom),
        "gmsh": gmsh.__version__,
        "sources": hashlib.sha256(sources).hexdigest(),
    }, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:24]


def cached_mesh(geom: DeviceGeometry) -> tuple[Path, bool]:
    """The cache entry (folder) of ``geom``: found, or meshed with gmsh now and stored.

    Returns:
        (folder, hit): the entry and whether it was found without meshing. With the cache off
        the entry is a fresh temporary folder (the caller deletes it).
    """
    def mesh() -> tuple[dict, dict]:
        with gmsh_model.gmsh_session():
            gmsh_model.build_model(geom)
            return extract_arrays(geom.gdim)

    return _entry(f"{geom.dimension}_{cache_key(geom)}", mesh)


def cached_mesh_file(path: Path, tdim: int) -> tuple[Path, bool]:
    """The cache entry of a .msh file (mesh of topological dimension ``tdim``), keyed by its
    bytes; (folder, hit) as :func:`cached_mesh`."""
    digest = hashlib.sha256(Path(path).read_bytes() + Path(__file__).read_bytes()).hexdigest()[:24]

    def read() -> tuple[dict, dict]:
        with gmsh_model.gmsh_session():
            gmsh.model.add("from_file")
            gmsh.merge(str(path))
            return extract_arrays(tdim)

    return _entry(f"file_{digest}", read)


def load_arrays(folder: Path) -> tuple[dict[str, np.ndarray], dict[str, tuple[int, int]]]:
    """The arrays of an entry, memory-mapped (read on access), and its physical groups."""
    folder = Path(folder)
    arrays = {name: np.load(folder / f"{name}.npy", mmap_mode="r") for name in ARRAYS}
    groups = {k: tuple(v) for k, v in json.loads((folder / "groups.json").read_text()).items()}
    return arrays, groups


def extract_arrays(tdim: int) -> tuple[dict[str, np.ndarray], dict[str, list[int]]]:
    """The current gmsh model's mesh as :data:`ARRAYS` and its named groups of dimension
    ``tdim`` and ``tdim - 1``.

    Raises:
        RuntimeError: a cell in no physical group, or in two.
    """
    tags, coords, _ = gmsh.model.mesh.getNodes()
    order = np.argsort(tags)
    tags = tags[order]
    parts: dict[int, tuple[list, list]] = {tdim: ([], []), tdim - 1: ([], [])}
    groups = {}
    for dim, tag in gmsh.model.getPhysicalGroups():
        if dim not in parts:
            continue
        groups[gmsh.model.getPhysicalName(dim, tag)] = [dim, tag]
        for entity in gmsh.model.getEntitiesForPhysicalGroup(dim, tag):
            for etype, _, nodes in zip(*gmsh.model.mesh.getElements(dim, entity), strict=True):
                per = gmsh.model.mesh.getElementProperties(etype)[3]
                parts[dim][0].append(np.searchsorted(tags, nodes).reshape(-1, per))
                parts[dim][1].append(np.full(len(nodes) // per, tag, dtype=np.int32))
    cells = np.concatenate(parts[tdim][0]).astype(np.int64)
    all_cells = sum(len(t) for t in gmsh.model.mesh.getElements(tdim)[1])
    if len(cells) != all_cells:
        raise RuntimeError(f"{all_cells} cells in the mesh but {len(cells)} in physical groups: "
                           "every cell must belong to exactly one")
    facets = parts[tdim - 1]
    arrays = {
        "x": coords.reshape(-1, 3)[order].astype(np.float64),
        "cells": cells,
        "cell_values": np.concatenate(parts[tdim][1]),
        "facets": (np.concatenate(facets[0]).astype(np.int64) if facets[0]
                   else np.empty((0, tdim), dtype=np.int64)),
        "facet_values": np.concatenate(facets[1]) if facets[1] else np.empty(0, np.int32),
    }
    return arrays, groups


def _entry(name: str, make) -> tuple[Path, bool]:
    """The entry ``name`` of the cache, made with ``make() -> (arrays, groups)`` if missing."""
    folder = cache_dir()
    if folder is None:
        target = Path(tempfile.mkdtemp(prefix="ecx-mesh-")) / name
    else:
        target = folder / name
        if (target / "groups.json").is_file():
            return target, True
    arrays, groups = make()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{name}.{os.getpid()}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    for key in ARRAYS:
        np.save(tmp / f"{key}.npy", arrays[key])
    (tmp / "groups.json").write_text(json.dumps(groups, sort_keys=True))  # last: marks complete
    try:
        os.rename(tmp, target)
    except OSError:  # another run stored the same entry meanwhile: keep that one
        shutil.rmtree(tmp, ignore_errors=True)
    return target, False
