"""ecx_device/nodal.py ChangeWatch: reports a change of any watched Function or Constant once,
finds them in UFL expressions, and with a communicator decides for all ranks together (a change
on one rank only must count on both: the cached data come from collective operations)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

_CHECK = """
from ecx_device import nodal
from ecx_device.fem import MPI, dolfinx, ufl

comm = MPI.COMM_WORLD
mesh = dolfinx.mesh.create_unit_interval(comm, 8)
V = dolfinx.fem.functionspace(mesh, ("Lagrange", 1))
u, unwatched = dolfinx.fem.Function(V), dolfinx.fem.Function(V)
c = dolfinx.fem.Constant(mesh, 1.0)
watch = nodal.ChangeWatch.of(ufl.exp(u) * c, comm=comm)
seen = [watch.changed(), watch.changed()]          # first call, then nothing changed
unwatched.x.array[:] = 3.0
seen.append(watch.changed())                        # not a coefficient of the expression
if comm.rank == 0:
    u.x.array[0] += 1.0                             # a change on rank 0 only
seen.append(watch.changed())
c.value = 2.0
seen.append(watch.changed())
seen.append(watch.changed())
everyone = comm.gather(seen)
if comm.rank == 0:
    print("SEEN", everyone)
"""

EXPECTED = [True, False, False, True, True, False]


def test_change_watch_sees_each_change_once():
    scope: dict = {}
    exec(_CHECK, scope)
    assert scope["seen"] == EXPECTED


def test_change_watch_decides_for_all_ranks():
    mpiexec = shutil.which("mpiexec", path=str(Path(sys.executable).parent))
    proc = subprocess.run([mpiexec, "-n", "2", sys.executable, "-c", _CHECK],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    # rank 1 saw rank 0's change too
    assert f"SEEN {[EXPECTED, EXPECTED]}" in proc.stdout, proc.stdout
