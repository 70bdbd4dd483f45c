"""Casu et al.'s serial estimate of a thermally promoted solid-state cation exchange
(Casu et al., ACS Nano 2023; shared/physics/model.md section 1, "Facts added").

One exchange event (a Cd site becomes Cu) needs three steps in a row: a Cu enters the host as an
interstitial (barrier E_b), hops (E_c) and kicks a Cd out of its site (E_d). Each attempt, at the
attempt frequency f, completes the chain with the probability

    P_CE = exp(-(E_b + E_c + E_d) / (k_B T)),

so one entry point converts f P_CE sites per second, and a crystal of N cation sites fed through
one entry point, one event at a time (serial), is fully converted after

    t_fc = N / (f P_CE)                                         [s].

With n entry points working side by side the time is t_fc / n. The continuum front kinetics of
:mod:`ecx_device.physics.front_kinetics` reduce to this in the single-entry-point limit
(docs/model.md 8.8). Energies are in joules (SI, as the material database stores them),
temperatures in kelvin. Pure NumPy: no DOLFINx.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ecx_device.units import BOLTZMANN, ELEMENTARY_CHARGE

__all__ = ["StepBarriers", "event_rate", "full_conversion_time", "onset_temperature",
           "success_probability", "t_fc"]


@dataclass(frozen=True)
class StepBarriers:
    """Casu's three step barriers (J; :meth:`from_ev` takes eV).

    Attributes:
        entry: E_b, a Cu enters the host as an interstitial (step b).
        hop: E_c, the interstitial hops (step c).
        kick_out: E_d, the Cu kicks a Cd out of its site (step d).
    """

    entry: float
    hop: float
    kick_out: float

    @classmethod
    def from_ev(cls, entry: float, hop: float, kick_out: float) -> StepBarriers:
        """Barriers given in eV (Casu's Table 1 units)."""
        return cls(entry * ELEMENTARY_CHARGE, hop * ELEMENTARY_CHARGE,
                   kick_out * ELEMENTARY_CHARGE)

    @property
    def total(self) -> float:
        """E_b + E_c + E_d (J)."""
        return self.entry + self.hop + self.kick_out


def success_probability(T, barriers: StepBarriers):
    """P_CE = exp(-(E_b + E_c + E_d)/(k_B T)) (-), for T in K (scalar or array)."""
    return np.exp(-barriers.total / (BOLTZMANN * np.asarray(T, dtype=float)))


def event_rate(T, barriers: StepBarriers, attempt_frequency: float):
    """Successful exchange events per second through one entry point, f P_CE (1/s)."""
    return attempt_frequency * success_probability(T, barriers)


def t_fc(N, T, barriers: StepBarriers, attempt_frequency: float):
    """Casu's serial full-conversion time t_fc = N / (f P_CE) (s).

    Args:
        N: Number of cation sites to convert (-).
        T: Temperature (K).
        barriers: E_b, E_c, E_d (J).
        attempt_frequency: f (1/s).
    """
    return np.asarray(N, dtype=float) / event_rate(T, barriers, attempt_frequency)


def full_conversion_time(N, T, barriers: StepBarriers, attempt_frequency: float,
                         entry_points: float = 1.0):
    """t_fc with ``entry_points`` serial channels working side by side (s): t_fc / n."""
    return t_fc(N, T, barriers, attempt_frequency) / entry_points


def onset_temperature(events: float, duration: float, barriers: StepBarriers,
                      attempt_frequency: float, entry_points: float = 1.0) -> float:
    """Temperature (K) at which ``entry_points`` serial channels make ``events`` exchange events
    within ``duration`` (s): n f exp(-E/(k_B T)) duration = events, so
    T = E / (k_B ln(n f duration / events)).

    Raises:
        ValueError: the events cannot be made in that time even at infinite temperature.
    """
    ratio = entry_points * attempt_frequency * duration / events
    if not ratio > 1.0:
        raise ValueError(f"events = {events:g} in {duration:g} s: more than n f t = {ratio:g} "
                         "attempts; expected fewer events than attempts")
    return barriers.total / (BOLTZMANN * np.log(ratio))
