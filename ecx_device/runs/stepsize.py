"""Adaptive time step with milestones: the step lands on every protocol breakpoint, snapshot time
and end time, grows after easy steps and is halved after a rejected one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ecx_device.errors import SolverError

#: Relative tolerance of "at a milestone" (s/s).
_ON = 1e-9


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

    def accepted(self, step: float, easy: bool) -> None:
        """After an accepted step of length ``step``: grow if it was ``easy``; a step cut short
        by a milestone does not shrink the next one."""
        if easy:
            self.value = max(self.value, step * self.growth)
        self.value = min(self.value, self.maximum)

    def rejected(self, step: float, t: float, why: str) -> None:
        """After a rejected step of length ``step`` from ``t``: halve it.

        Raises:
            SolverError: the halved step is below :attr:`minimum` (the message says why the last
                attempt failed).
        """
        self.value = step * self.cut
        if self.value < self.minimum:
            raise SolverError(
                f"exchange step at t = {t:.6g} s cannot be made: {why} even with dt = "
                f"{step:.3g} s (exchange.min_time_step = {self.minimum:g} s)",
                details={"time [s]": t, "last_step [s]": step, "reason": why})

    def reached(self, t: float, times: list[float]) -> bool:
        """True when ``t`` is at or past the first of ``times`` (s)."""
        return bool(times) and t >= times[0] * (1 - _ON)
