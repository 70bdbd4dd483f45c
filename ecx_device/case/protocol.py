"""Bias protocols: typed segments (hold, ramp, steps) and the bias points they produce.

The electro-thermal state relaxes in nanoseconds, so each bias point is a steady solve; a segment
only decides at which (time, voltage) pairs those solves happen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, RootModel, model_validator

from ecx_device.units import to_si

_Volt = Annotated[float, BeforeValidator(lambda v: to_si(v, "V"))]
_Duration = Annotated[float, BeforeValidator(lambda v: to_si(v, "s")), Field(gt=0)]


class _Segment(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    #: Optional start time (s); default: when the previous segment ends. The bias holds its last
    #: value through a gap; a start before the previous segment's end is an overlap (an error).
    start_time: Annotated[float, BeforeValidator(lambda v: to_si(v, "s")),
                          Field(ge=0)] | None = None

    @property
    def total_duration(self) -> float:
        """Duration of the segment (s); segments of several parts override this."""
        return self.duration


class Hold(_Segment):
    """Constant bias for a duration: one steady solve."""

    type: Literal["hold"]
    voltage: _Volt
    duration: _Duration

    def points(self) -> list[tuple[float, float]]:
        """(time offset [s], bias [V]) pairs of this segment."""
        return [(0.0, self.voltage)]


class Ramp(_Segment):
    """Linear ramp from ``start`` to ``stop`` over ``duration``, sampled at ``points`` biases."""

    type: Literal["ramp"]
    start: _Volt
    stop: _Volt
    duration: _Duration
    points_: Annotated[int, Field(ge=2, alias="points")] = 11

    def points(self) -> list[tuple[float, float]]:
        """(time offset [s], bias [V]) pairs of this segment."""
        t = np.linspace(0.0, self.duration, self.points_)
        v = np.linspace(self.start, self.stop, self.points_)
        return list(zip(t.tolist(), v.tolist()))


class Steps(_Segment):
    """A ladder of biases, each held for ``duration``."""

    type: Literal["steps"]
    voltages: Annotated[list[_Volt], Field(min_length=1)]
    duration: _Duration = Field(description="duration of each step")

    def points(self) -> list[tuple[float, float]]:
        """(time offset [s], bias [V]) pairs of this segment."""
        return [(i * self.duration, v) for i, v in enumerate(self.voltages)]

    @property
    def total_duration(self) -> float:
        """Duration of the whole ladder (s)."""
        return self.duration * len(self.voltages)


class Pulses(_Segment):
    """``count`` rectangular pulses: ``voltage`` for ``width``, then ``base`` until the next
    period starts."""

    type: Literal["pulses"]
    voltage: _Volt
    width: _Duration
    period: _Duration
    count: Annotated[int, Field(ge=1)] = 1
    base: _Volt = 0.0

    @model_validator(mode="after")
    def _fits(self) -> Pulses:
        if self.width >= self.period:
            raise ValueError(f"width ({self.width:g} s) must be shorter than period "
                             f"({self.period:g} s)")
        return self

    def points(self) -> list[tuple[float, float]]:
        """(time offset [s], bias [V]) pairs of this segment."""
        out = []
        for k in range(self.count):
            out += [(k * self.period, self.voltage), (k * self.period + self.width, self.base)]
        return out

    @property
    def total_duration(self) -> float:
        """Duration of all pulses (s)."""
        return self.period * self.count


Segment = Annotated[Hold | Ramp | Steps | Pulses, Field(discriminator="type")]


@dataclass(frozen=True)
class BiasPoint:
    """One steady solve of a protocol: time (s), bias on Cu against W (V), segment index."""

    time: float
    voltage: float
    segment: int


class BiasProtocol(RootModel[Annotated[list[Segment], Field(min_length=1)]]):
    """A sequence of segments run one after the other."""

    @model_validator(mode="after")
    def _no_overlap(self) -> BiasProtocol:
        end = 0.0
        for i, seg in enumerate(self.root):
            if seg.start_time is not None and seg.start_time < end - 1e-15:
                raise ValueError(f"segment [{i}] starts at {seg.start_time:g} s, before the "
                                 f"previous segment ends ({end:g} s): segments must not overlap")
            end = (seg.start_time if seg.start_time is not None else end) + seg.total_duration
        return self

    def timeline(self) -> list[tuple[float, float, _Segment]]:
        """(start [s], end [s], segment) of each segment in order."""
        out, t0 = [], 0.0
        for seg in self.root:
            if seg.start_time is not None:
                t0 = seg.start_time
            out.append((t0, t0 + seg.total_duration, seg))
            t0 += seg.total_duration
        return out

    @property
    def end_time(self) -> float:
        """When the last segment ends (s)."""
        return self.timeline()[-1][1]

    def voltage_at(self, t: float, polarity_sign: float = 1.0) -> float:
        """Bias (V) at time ``t`` (s) for time integration: holds and steps are piecewise
        constant (a step's new value applies from its start), ramps linear; in a gap between
        segments the last value holds; before the first segment the first value applies."""
        value = None
        for start, end, seg in self.timeline():
            if t < start:
                break
            if isinstance(seg, Ramp):
                frac = min((t - start) / seg.duration, 1.0)
                value = seg.start + frac * (seg.stop - seg.start)
            else:
                value = next(v for dt, v in reversed(seg.points()) if t >= start + dt)
        if value is None:
            value = self.root[0].points()[0][1]
        return polarity_sign * value

    def breakpoints(self) -> list[float]:
        """Times (s) where the bias jumps or a ramp starts/ends: a time step must land on them."""
        times = set()
        for start, end, seg in self.timeline():
            times.update({start, end})
            if not isinstance(seg, Ramp):
                times.update(start + dt for dt, _ in seg.points())
        return sorted(times)

    def bias_points(self, polarity_sign: float = 1.0) -> list[BiasPoint]:
        """Flatten the protocol into bias points in time order.

        Args:
            polarity_sign: +1 for Cu positive, -1 for W positive.
        """
        out: list[BiasPoint] = []
        t0 = 0.0
        for i, seg in enumerate(self.root):
            if seg.start_time is not None:
                t0 = seg.start_time
            for dt, v in seg.points():
                if out and out[-1].time == t0 + dt:
                    out.pop()  # at a segment boundary the later segment sets the bias
                out.append(BiasPoint(t0 + dt, polarity_sign * v, i))
            t0 += seg.total_duration
        return out
