"""Working space of MUMPS's LU factorisations, and a retry when a factorisation ran short of it.

MUMPS sizes its working space at the analysis (symbolic) phase, from the sparsity pattern and the
values it sees then, plus ICNTL(14) percent. PETSc analyses once per problem and refactorises
numerically after that. When the values change enough that numerical pivoting has to delay
pivots, the factors outgrow that space and the factorisation fails with INFOG(1) = -9 ("real
workspace too small"). The Newton solve then fails with a linear-solver error, for a reason that
has nothing to do with Newton or with the time step.

That happened on the Li-anode wire at 500 K (axisymmetric, the default case with `exchange.anode:
Li`). Once the exchange front had moved the values far from those of the analysis, 0.5-2 % more
space than MUMPS's 20 % margin was needed. Every such factorisation failed the ion step, and the
step was retried shorter, ~1 rejection per 2 accepted steps.
"""

from __future__ import annotations

from ecx_device.fem import PETSc

#: ICNTL(14) (%) of every MUMPS factorisation unless the case sets ``mat_mumps_icntl_14``: five
#: times MUMPS's 20 %, well above the 20.5-22 % the Li-anode wire needed.
WORKSPACE_PERCENT = 100

#: Largest ICNTL(14) (%) the retry grows to (doubling from WORKSPACE_PERCENT: 200, 400, 800, 1600).
MAX_WORKSPACE_PERCENT = 1600

#: INFOG(1) values that MUMPS's manual says more working space (ICNTL(14)) cures.
SHORT_OF_ROOM = frozenset({-8, -9, -11, -12, -14, -15, -17})


class FactorRoom:
    """ICNTL(14) of one Newton problem's MUMPS factorisations.

    The value is kept in PETSc's options database under the problem's prefix, so every factor
    the solver creates reads it, also the one made after a failed solve drops the old factors.
    :meth:`note` records, before such a drop, whether the factorisation ran short of space;
    :meth:`grow` then doubles the space for a retry.

    Args:
        solver: The problem's SNES (its options prefix names the entry).
        options: The problem's PETSc options; a ``mat_mumps_icntl_14`` there is the start value.
    """

    def __init__(self, solver, options: dict):
        self._key = f"{solver.getOptionsPrefix() or ''}mat_mumps_icntl_14"
        self.percent = int(options.get("mat_mumps_icntl_14", WORKSPACE_PERCENT))
        self.short = False
        PETSc.Options()[self._key] = self.percent

    def note(self, ksp) -> None:
        """After a failed solve, before its factors are dropped: did the factorisation run short
        of working space (INFOG(1) in :data:`SHORT_OF_ROOM`)? A failure elsewhere (no factor,
        a singular matrix) is not a question of space."""
        try:
            info = ksp.getPC().getFactorMatrix().getMumpsInfog(1)
        except PETSc.Error:
            info = 0
        self.short = info in SHORT_OF_ROOM

    def grow(self) -> bool:
        """Double the space for a retry after a factorisation that ran short of it; False when
        it did not, or the space is already :data:`MAX_WORKSPACE_PERCENT`."""
        if not self.short or self.percent >= MAX_WORKSPACE_PERCENT:
            return False
        self.short = False
        self.percent = min(2 * self.percent, MAX_WORKSPACE_PERCENT)
        PETSc.Options()[self._key] = self.percent
        return True

    def close(self) -> None:
        """Remove the options entry."""
        PETSc.Options().delValue(self._key)
