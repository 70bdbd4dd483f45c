"""Mesh cache: a meshed device geometry is stored once as a .msh file and read back afterwards.

A sweep over biases, materials or protocols meshes the same geometry again and again; 3D meshes
of ~1e6 tetrahedra take tens of seconds. :func:`cached_msh` returns the .msh file of a
:class:`~ecx_device.device.geometry.DeviceGeometry`, meshing it only when the cache lacks it.

The key is a hash of every field of the geometry (dimensions and mesh sizes), the gmsh version,
and the source of :mod:`ecx_device.device.gmsh_model` (so a changed mesher never serves an old
mesh). Files are binary MSH 4.1, written atomically, so concurrent runs (``sweep --jobs``) at
worst mesh the same geometry twice and keep one of the results. The threaded 3D mesher is not
reproducible to the last node (two meshings of one geometry differ slightly), so the cache is
also what makes runs of one geometry, and restarts from checkpoints, see the very same mesh.

Where: ``$ECX_MESH_CACHE`` if set, else ``$XDG_CACHE_HOME/ecx_device/meshes`` (default
``~/.cache/ecx_device/meshes``). ``ECX_MESH_CACHE=off`` disables the cache (every run meshes).
Clearing it is always safe: ``rm -rf ~/.cache/ecx_device/meshes``.

Only gmsh, not DOLFINx, is used here; the Domain reads the file (:mod:`ecx_device.mesh`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path

import gmsh

from ecx_device.device import gmsh_model
from ecx_device.device.geometry import DeviceGeometry

__all__ = ["cache_dir", "cache_key", "cached_msh"]

#: Environment variable naming the cache folder ("off" disables the cache).
ENV = "ECX_MESH_CACHE"


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
    source = Path(gmsh_model.__file__).read_bytes()
    payload = json.dumps({
        "geometry": dataclasses.asdict(geom),
        "gmsh": gmsh.__version__,
        "mesher_source": hashlib.sha256(source).hexdigest(),
    }, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:24]


def cached_msh(geom: DeviceGeometry) -> tuple[Path, bool]:
    """The .msh file of ``geom``: from the cache, or meshed now and stored.

    Returns:
        (path, hit): the file and whether it came from the cache without meshing. With the
        cache off the mesh is written to a fresh temporary folder (the caller may delete it).
    """
    folder = cache_dir()
    if folder is None:
        import tempfile

        path = Path(tempfile.mkdtemp(prefix="ecx-mesh-")) / "device.msh"
        gmsh_model.write_msh(geom, path, binary=True)
        return path, False
    path = folder / f"{geom.dimension}_{cache_key(geom)}.msh"
    if path.is_file():
        return path, True
    folder.mkdir(parents=True, exist_ok=True)
    # gmsh picks the format from the suffix, so the temporary name keeps ".msh"
    tmp = folder / f".{path.stem}.{os.getpid()}.tmp.msh"
    try:
        gmsh_model.write_msh(geom, tmp, binary=True)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path, False
