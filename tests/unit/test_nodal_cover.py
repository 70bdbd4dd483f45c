"""ecx_device/nodal.py: interpolating over a node cover gives the full interpolation bit for bit,
scalar and blocked, also where the expression jumps between cells (cellwise material data) and on
two ranks."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

_CHECK = """
import numpy as np
from ecx_device import nodal
from ecx_device.fem import MPI, dolfinx, ufl


def compare(mesh, degree):
    V = dolfinx.fem.functionspace(mesh, ("Lagrange", degree))
    W = dolfinx.fem.functionspace(mesh, ("DG", 0))
    jump = dolfinx.fem.Function(W)  # a different 'material' in every cell
    imap = mesh.topology.index_map(mesh.topology.dim)
    cells = np.arange(imap.size_local + imap.num_ghosts)
    jump.x.array[W.dofmap.list[cells, 0]] = np.sin(imap.local_to_global(cells) * 1.7)
    u = dolfinx.fem.Function(V)
    u.interpolate(lambda x: np.sin(3 * x[0]) + x[1])
    expr = dolfinx.fem.Expression(ufl.exp(u) * (1 + jump) / (1 + u**2),
                                  V.element.interpolation_points)
    full, cover = dolfinx.fem.Function(V), dolfinx.fem.Function(V)
    full.interpolate(expr)
    nodal.interpolate(cover, expr)
    same = bool(np.array_equal(full.x.array, cover.x.array))
    # a blocked space (components of different size, as the carriers' nodal data)
    B = dolfinx.fem.functionspace(mesh, ("Lagrange", degree, (3,)))
    vector = dolfinx.fem.Expression(ufl.as_vector([u * jump, ufl.exp(u), 1e3 * u + jump]),
                                    B.element.interpolation_points)
    full, cover = dolfinx.fem.Function(B), dolfinx.fem.Function(B)
    full.interpolate(vector)
    nodal.interpolate(cover, vector)
    same = same and bool(np.array_equal(full.x.array, cover.x.array))
    same = MPI.COMM_WORLD.allreduce(same, op=MPI.LAND)
    return same, len(nodal.node_cover(V)), imap.size_local + imap.num_ghosts


results = [compare(dolfinx.mesh.create_unit_square(MPI.COMM_WORLD, 12, 9), 1),
           compare(dolfinx.mesh.create_unit_square(MPI.COMM_WORLD, 7, 5), 2),
           compare(dolfinx.mesh.create_unit_cube(MPI.COMM_WORLD, 6, 5, 4), 1)]
"""


def test_cover_equals_the_full_interpolation():
    scope: dict = {}
    exec(_CHECK, scope)
    (same2, cover2, cells2), (same_p2, _, _), (same3, cover3, cells3) = scope["results"]
    assert same2 and same_p2 and same3
    # the point of the cover: far fewer cells than the mesh, most of all in 3D
    assert cover2 < 0.6 * cells2
    assert cover3 < 0.3 * cells3


def test_cover_equals_the_full_interpolation_on_two_ranks():
    mpiexec = shutil.which("mpiexec", path=str(Path(sys.executable).parent))
    script = _CHECK + "\nprint('SAME', all(r[0] for r in results))\n"
    proc = subprocess.run([mpiexec, "-n", "2", sys.executable, "-c", script],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split().count("True") == 2  # 'SAME True' on both ranks
    assert "False" not in proc.stdout
