"""The protocol every solver of ecx_device offers to the run loop, and the result of a solve.

Newton (:class:`~ecx_device.solvers.newton.CoupledProblem`), the electro-thermal fixed point
(:class:`~ecx_device.solvers.fixed_point.SelfHeatingProblem`) and the exchange operator splitting
(:class:`~ecx_device.solvers.splitting.ExchangeSplitting`) are driven the same way: take a copy of
the state, change a constant (bias, time step), ``solve()``; on failure ``restore()`` the copy and
try a smaller change; read the ``quantities()`` of an accepted state. Checkpoints save ``u``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np


@dataclass
class NewtonResult:
    """Outcome of one solve.

    Attributes:
        converged: The solve reached its tolerance with finite values.
        iterations: Newton iterations spent (all inner solves summed).
        reason: PETSc's SNES converged reason, or a negative code of ours.
        message: Why it failed ('' when it converged or PETSc's reason says enough).
    """

    converged: bool
    iterations: int
    reason: int
    message: str = ""


class Problem(Protocol):
    """What the run loop, the bias continuation and the checkpoints use of a solver."""

    #: Context of the problem's main mesh (its ``constants["bias"]`` drives the device).
    ctx: Any
    #: Names of the unknowns solved for.
    names: list[str]
    #: Every Function that makes up the state (what a checkpoint saves), by name.
    u: dict[str, Any]

    def state(self) -> dict[str, np.ndarray]:
        """Copy of the state arrays."""

    def restore(self, state: dict[str, np.ndarray]) -> None:
        """Put back a :meth:`state`."""

    def solve(self) -> NewtonResult:
        """Solve from the current state; never raises on divergence."""

    def quantities(self) -> dict[str, float]:
        """Scalar results of the current state, keys ending in a bracketed unit."""

    def residual_norms(self) -> dict[str, float]:
        """Norm of each equation's residual at the current state (failure reports)."""

    def close(self) -> None:
        """Destroy the PETSc objects (collective)."""


def reason_name(reason: int) -> str:
    """PETSc's name of a SNES converged/diverged reason code."""
    from ecx_device.fem import PETSc

    names = {v: k for k, v in vars(PETSc.SNES.ConvergedReason).items()
             if not k.startswith("_") and isinstance(v, int)}
    return names.get(reason, str(reason))
