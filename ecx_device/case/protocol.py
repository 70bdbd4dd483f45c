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
    start_time: Annotated[float | None, BeforeValidator(
        lambda v: None if v is None else to_si(v, "s")), Field(ge=0)] = None


class Hold(_Segment):
    """Constant bias for a duration: one steady solve."""

    type: Literal["hold"]
    voltage: _Volt
    duration: _Duration

    def points(self) -> list[tuple[float, float]]:
        """(time offset [s], bias [V]) pairs of this segment."""
        return [(0.0, self.voltage)]

    @property
    def total_duration(self) -> float:
        """Duration of the segment (s)."""
        return self.duration


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

    @property
    def total_duration(self) -> float:
        """Duration of the segment (s)."""
        return self.duration


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


Segment = Annotated[Hold | Ramp | Steps, Field(discriminator="type")]


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
