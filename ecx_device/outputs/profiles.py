"""Sample fields along the wire axis (MPI-aware point evaluation)."""

from __future__ import annotations

import numpy as np

from ecx_device.fem import MPI, dolfinx


def sample(f: dolfinx.fem.Function, points: np.ndarray) -> np.ndarray:
    """Values of a scalar function at ``points`` (N x 3, mesh units); NaN where outside the mesh.

    Every rank evaluates the points it holds; the result is the same on all ranks.
    """
    mesh = f.function_space.mesh
    tree = dolfinx.geometry.bb_tree(mesh, mesh.topology.dim)
    candidates = dolfinx.geometry.compute_collisions_points(tree, points)
    colliding = dolfinx.geometry.compute_colliding_cells(mesh, candidates, points)
    values = np.full(len(points), np.nan)
    idx, cells = [], []
    for i in range(len(points)):
        links = colliding.links(i)
        if len(links):
            idx.append(i)
            cells.append(links[0])
    if idx:
        values[idx] = f.eval(points[idx], np.asarray(cells, dtype=np.int32)).ravel()
    gathered = mesh.comm.allgather(values)
    out = np.full(len(points), np.nan)
    for vals in gathered:
        out = np.where(np.isnan(out), vals, out)
    return out


def axial_line(mesh: dolfinx.mesh.Mesh, n: int = 400) -> np.ndarray:
    """Points along the symmetry axis (last coordinate) across the whole mesh, mesh units."""
    gdim = mesh.geometry.dim
    x = mesh.geometry.x
    lo = mesh.comm.allreduce(x[:, gdim - 1].min(), op=MPI.MIN)
    hi = mesh.comm.allreduce(x[:, gdim - 1].max(), op=MPI.MAX)
    pts = np.zeros((n, 3))
    # Stay a hair inside the mesh: the axis is a boundary in axisymmetric form.
    pts[:, gdim - 1] = np.linspace(lo, hi, n)
    if gdim == 2:
        pts[:, 0] = 1e-9 * max(hi - lo, 1.0)
    return pts

