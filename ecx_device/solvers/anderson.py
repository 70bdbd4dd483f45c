"""Anderson acceleration of a fixed-point iteration x <- G(x) (Walker & Ni, SIAM J. Numer. Anal.
49, 1715 (2011), "type II" form).

From the last ``depth`` + 1 iterates x_i and images g_i = G(x_i) with residuals f_i = g_i - x_i,
the next iterate is g_k - sum_j gamma_j (g_{j+1} - g_j), with gamma the least-squares solution of
min || f_k - sum_j gamma_j (f_{j+1} - f_j) ||_2. For an affine map G with a contraction, this is
GMRES on (I - dG) x = b: it converges in at most n + 1 steps on R^n with depth >= n, and far faster
than the plain iteration when the contraction factor is near 1. Used by the electro-thermal fixed
point on the wire temperature (solvers/fixed_point.py).
"""

from __future__ import annotations

import numpy as np

from ecx_device.fem import MPI


class AndersonMixing:
    """The mixing of one fixed-point solve (make a new one for each solve).

    Args:
        depth: Number of differences used (0: the plain iteration x <- G(x)).
        comm: MPI communicator of the distributed vectors.
        owned: Number of this rank's owned entries at the front of each local array (ghost
            entries after them are mixed alike but not counted in the inner products).
    """

    def __init__(self, depth: int, comm=MPI.COMM_WORLD, owned: int | None = None):
        self.depth, self.comm, self.owned = depth, comm, owned
        self._g: list[np.ndarray] = []
        self._f: list[np.ndarray] = []

    def next(self, x: np.ndarray, g: np.ndarray) -> np.ndarray:
        """The next iterate after ``x`` with image ``g`` = G(x) (local arrays)."""
        self._g = [*self._g, g.copy()][-(self.depth + 1):]
        self._f = [*self._f, g - x][-(self.depth + 1):]
        if len(self._f) < 2:
            return g.copy()
        n = self.owned if self.owned is not None else len(x)
        d_f = np.stack([b - a for a, b in zip(self._f, self._f[1:])], axis=1)
        d_g = np.stack([b - a for a, b in zip(self._g, self._g[1:])], axis=1)
        gram = self.comm.allreduce(d_f[:n].T @ d_f[:n], op=MPI.SUM)
        rhs = self.comm.allreduce(d_f[:n].T @ self._f[-1][:n], op=MPI.SUM)
        # least squares through the small normal equations; lstsq copes with a singular Gram
        # matrix (two equal differences), where the minimum-norm gamma is the safe choice
        gamma = np.linalg.lstsq(gram, rhs, rcond=1e-12)[0]
        return g - d_g @ gamma
