"""Interpolation of UFL expressions into Lagrange spaces over a node cover of the mesh.

DOLFINx interpolates an Expression cell by cell, so a P1 node is evaluated once per cell around
it: about 6 times in 2D and 20 times in 3D. The nodal data of the carrier problems (log
densities, update weights, transport potentials) are interpolated at every Newton iteration;
all interpolations took 21 % of a profiled self-heated stage (d) smoke sweep (2026-12-06).
:func:`interpolate` evaluates only a cover: for each dof the highest-numbered local cell (owned
or ghost) that holds it.

Where an expression is discontinuous between cells (cellwise material data at a heterojunction),
a shared dof takes the value of the last cell DOLFINx visits, and it visits cells in increasing
order. Each dof's last cell is in the cover, so the result equals the full interpolation bit for
bit (``tests/unit/test_nodal_cover.py``, on 1 and 2 ranks).
"""

from __future__ import annotations

import numpy as np

from ecx_device.fem import MPI, dolfinx, ufl
from ecx_device.per_object import once_per


def node_cover(V: dolfinx.fem.FunctionSpace) -> np.ndarray:
    """Local cells (sorted) that hold every local dof of ``V``: each dof's highest-numbered
    cell. Computed once per space."""
    return once_per(V, "node_cover", _cover)


def _cover(V: dolfinx.fem.FunctionSpace) -> np.ndarray:
    imap = V.mesh.topology.index_map(V.mesh.topology.dim)
    ncells = imap.size_local + imap.num_ghosts
    dofs = V.dofmap.list[:ncells]
    last = np.full(V.dofmap.index_map.size_local + V.dofmap.index_map.num_ghosts, -1)
    np.maximum.at(last, dofs.ravel(), np.repeat(np.arange(ncells), dofs.shape[1]))
    return np.unique(last[last >= 0]).astype(np.int32)


def _pick(V: dolfinx.fem.FunctionSpace) -> np.ndarray:
    """For each local dof (block) of ``V``, its row in the expression's values on the node
    cover flattened to (cell, point): the entry of the dof's last cell."""
    dofs = V.dofmap.list[node_cover(V)].ravel()
    pick = np.full(V.dofmap.index_map.size_local + V.dofmap.index_map.num_ghosts, -1)
    np.maximum.at(pick, dofs, np.arange(len(dofs)))  # the cover is sorted: last cell = highest
    return pick


def interpolate(f: dolfinx.fem.Function, expr: dolfinx.fem.Expression) -> None:
    """``f.interpolate(expr)`` evaluated on :func:`node_cover` only (same values).

    For Lagrange spaces whose dofs are the values at the expression's points (no dof
    transformations), the values are gathered straight from ``Expression.eval``: DOLFINx's
    interpolation adds ~0.25 ms of its own per call (1000 interval cells, 2026-12-06), which
    was most of the cost of the carriers' nodal data."""
    V = f.function_space
    element = V.element
    if (element.interpolation_ident and not element.needs_dof_transformations
            and np.array_equal(expr.X(), element.interpolation_points)):
        cover = node_cover(V)
        values = expr.eval(V.mesh, cover).reshape(-1, V.dofmap.bs)
        f.x.array.reshape(-1, V.dofmap.bs)[:] = values[once_per(V, "node_pick", _pick)]
        return
    f.interpolate(expr, cells0=node_cover(V))


class ChangeWatch:
    """Whether any of some Functions and Constants changed value since the last time
    :meth:`changed` said so: the cache key of data computed from them (nodal interpolants,
    per-state vectors) that several callers ask for at the same state.

    Args:
        functions: Functions whose arrays (this rank's part) are watched.
        constants: DOLFINx Constants whose values are watched.
        comm: Where the cached data are computed by collective operations (a vector's ghost
            update, an assembly), the communicator over which one rank's change counts for
            all: every rank must then call :meth:`changed` together. None: each rank decides
            for itself (purely local data).
    """

    def __init__(self, functions, constants=(), comm=None):
        self._functions = list(dict.fromkeys(functions))
        self._constants = list(dict.fromkeys(constants))
        self._comm = comm
        self._last: list[np.ndarray] | None = None

    @classmethod
    def of(cls, *exprs, constants=(), comm=None) -> ChangeWatch:
        """Watch every coefficient (Function) and Constant that the UFL ``exprs`` depend on,
        and ``constants`` besides."""
        functions, found = [], list(constants)
        for e in exprs:
            functions += ufl.algorithms.extract_coefficients(e)
            found += ufl.algorithms.analysis.extract_constants(e)
        return cls(functions, found, comm)

    def changed(self) -> bool:
        """True on the first call and whenever a watched value differs from the last True."""
        now = [f.x.array for f in self._functions] + [np.asarray(c.value)
                                                        for c in self._constants]
        same = self._last is not None and all(np.array_equal(a, b)
                                              for a, b in zip(now, self._last, strict=True))
        if self._comm is not None and self._comm.size > 1:
            same = self._comm.allreduce(same, op=MPI.LAND)
        if same:
            return False
        self._last = [a.copy() for a in now]
        return True
