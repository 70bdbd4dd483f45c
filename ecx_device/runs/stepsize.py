"""Adaptive time step with milestones: the step lands on every protocol breakpoint, snapshot time
and end time. Its length follows an estimate of the step's local error (:func:`error_factor`);
a rejected step is cut by the factor its rejection suggests, at most :attr:`Stepsize.cut`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ecx_device.errors import SolverError

#: Relative tolerance of "at a milestone" (s/s).
_ON = 1e-9

#: Safety factor of the error controller (-): aim a little below the tolerance, so that the next
#: step is not rejected for a small rise of the error.
SAFETY = 0.8

#: Smallest factor the error controller applies to the next step (-).
SMALLEST_FACTOR = 0.1


def error_factor(error: float, tolerance: float, largest: float) -> float:
    """Factor (-) for the next step from a first-order method's local error estimate ``error``
    against ``tolerance`` (same units): the error of backward Euler grows as dt^2, so the step
    that meets the tolerance is dt * sqrt(tolerance / error), times :data:`SAFETY`, between
    :data:`SMALLEST_FACTOR` and ``largest``."""
    if error <= 0.0:
        return largest
    return min(largest, max(SMALLEST_FACTOR, SAFETY * (tolerance / error) ** 0.5))


@dataclass
class Stepsize:
    """Step length control (FESTIM's Stepsize pattern: milestones the step must land on).

    Attributes:
        value: The next step (s).
        minimum: Below this a rejected step stops the run (s).
        maximum: Upper bound of the step (s).
        growth: Factor after an easy step (-).
        cut: Factor after a rejected step (-).
        milestones: Times (s) a step must end on exactly.
    """

    value: float
    minimum: float
    maximum: float
    growth: float = 1.5
    cut: float = 0.5
    milestones: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.milestones = sorted(set(self.milestones))

    def next_milestone(self, t: float) -> float | None:
        """The first milestone after ``t`` (s), or None."""
        return next((m for m in self.milestones if m > t * (1 + 1e-12) + 1e-300), None)

    def step_from(self, t: float) -> float:
        """Length of the step that starts at ``t`` (s): the current value, cut short to land on
        the next milestone, and stretched onto it rather than leaving a sliver before it."""
        step = self.value
        stop = self.next_milestone(t)
        if stop is not None:
            step = min(step, stop - t)
            if stop - (t + step) < _ON * step:
                step = stop - t
        return step

    def accepted(self, step: float, factor: float) -> None:
        """After an accepted step of length ``step``: the next is ``step * factor``, at most
        :attr:`growth` times ``step`` and at most :attr:`maximum`. A step cut short to land on a
        milestone does not shrink the next one below the current value unless its factor is
        below 1 (its error asks for a step shorter than the one just taken)."""
        proposed = step * min(factor, self.growth)
        self.value = min(proposed if factor < 1.0 else max(proposed, self.value), self.maximum)

    def retry(self, step: float, factor: float | None = None) -> float:
        """Length (s) of the retry of a rejected step of length ``step`` (see :meth:`rejected`)."""
        return step * min(self.cut, max(factor or self.cut, SMALLEST_FACTOR))

    def rejected(self, step: float, t: float, why: str, factor: float | None = None) -> None:
        """After a rejected step of length ``step`` from ``t``: cut it by ``factor`` (what the
        rejection suggests, e.g. from how far X overshot its limit), at most by :attr:`cut`;
        None: by :attr:`cut`.

        Raises:
            SolverError: the cut step is below :attr:`minimum` (the message says why the last
                attempt failed).
        """
        self.value = self.retry(step, factor)
        if self.value < self.minimum:
            raise SolverError(
                f"exchange step at t = {t:.6g} s cannot be made: {why} even with dt = "
                f"{step:.3g} s (exchange.min_time_step = {self.minimum:g} s)",
                details={"time [s]": t, "last_step [s]": step, "reason": why})

    def reached(self, t: float, times: list[float]) -> bool:
        """True when ``t`` is at or past the first of ``times`` (s)."""
        return bool(times) and t >= times[0] * (1 - _ON)
