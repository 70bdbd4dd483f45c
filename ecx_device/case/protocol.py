"""Bias protocols: typed segments (hold, ramp, steps) and the bias points they produce.

The electro-thermal state relaxes in nanoseconds, so each bias point is a steady solve; a segment
only decides at which (time, voltage) pairs those solves happen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, RootModel

from ecx_device.units import to_si

_Volt = Annotated[float, BeforeValidator(lambda v: to_si(v, "V"))]
_Duration = Annotated[float, BeforeValidator(lambda v: to_si(v, "s")), Field(gt=0)]


class _Segment(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


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


Segment = Annotated[Hold | Ramp | Steps, Field(discriminator="type")]


@dataclass(frozen=True)
class BiasPoint:
    """One steady solve of a protocol: time (s), bias on Cu against W (V), segment index."""

    time: float
    voltage: float
    segment: int


class BiasProtocol(RootModel[Annotated[list[Segment], Field(min_length=1)]]):
    """A sequence of segments run one after the other."""

    def bias_points(self, polarity_sign: float = 1.0) -> list[BiasPoint]:
        """Flatten the protocol into bias points in time order.

        Args:
            polarity_sign: +1 for Cu positive, -1 for W positive.
        """
        out: list[BiasPoint] = []
        t0 = 0.0
        for i, seg in enumerate(self.root):
            for dt, v in seg.points():
                if out and out[-1].time == t0 + dt:
                    out.pop()  # at a segment boundary the later segment sets the bias
                out.append(BiasPoint(t0 + dt, polarity_sign * v, i))
            t0 += getattr(seg, "total_duration", seg.duration)
        return out
