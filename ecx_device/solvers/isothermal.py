"""A held temperature as the electro-thermal "problem" of a run without electrodes.

A particle in a bath or on a heated grid (``geometry.particle``) carries no current and sits at
the set temperature (``thermal.heat_sink_temperature``): there is nothing to solve. This class
offers the :class:`~ecx_device.solvers.problem.Problem` protocol with that state, so the exchange
splitting (:mod:`ecx_device.solvers.splitting`) drives the ions of a particle exactly as it does
on a device.
"""

from __future__ import annotations

import math

import numpy as np

from ecx_device.physics.base import Context
from ecx_device.solvers.problem import NewtonResult


class FixedTemperature:
    """No unknowns; the temperature is the context's ``heat_sink_temperature`` (K).

    Args:
        ctx: Context of the particle (its ``bias`` constant is the protocol's 0 V).
    """

    names: list[str] = []

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.u: dict = {}

    def state(self) -> dict[str, np.ndarray]:
        """Nothing to copy."""
        return {}

    def restore(self, state: dict[str, np.ndarray]) -> None:
        """Nothing to put back."""

    def solve(self) -> NewtonResult:
        """Nothing to solve: converged."""
        return NewtonResult(True, 0, 0)

    def quantities(self) -> dict[str, float]:
        """Zero current (no electrodes) and the held temperature (K), under the names of the
        electro-thermal models (the run's plots and tables read them)."""
        T = float(self.ctx.constants["heat_sink_temperature"].value)
        return {"current [A]": 0.0, "cathode_current [A]": 0.0, "current_mismatch [-]": 0.0,
                "wire_T_max [K]": T, "wire_T_mean [K]": T,
                "wire_T_max_axial_position [nm]": math.nan}

    def residual_norms(self) -> dict[str, float]:
        """No equations."""
        return {}

    def close(self) -> None:
        """No PETSc objects."""
