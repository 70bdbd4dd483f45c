"""Casu et al.'s serial estimate t_fc = N/(f P_CE) (physics/casu.py) against hand values.

Hand values: P_CE = exp(-E/(k_B T)) with k_B = 8.617333262e-5 eV/K (CODATA 2018) and Casu's
Table 1 sums E = 0.4 + 0.29 + 0.7 = 1.39 eV (wurtzite), 0.06 + 0.51 + 0.3 = 0.87 eV (zinc
blende), f = 1.9e12 1/s, evaluated once by hand (calculator) and written down here.
"""

from __future__ import annotations

import pytest

from ecx_device.physics.casu import (StepBarriers, event_rate, full_conversion_time,
                                     onset_temperature, success_probability, t_fc)

WZ = StepBarriers.from_ev(0.4, 0.29, 0.7)
ZB = StepBarriers.from_ev(0.06, 0.51, 0.3)
F = 1.9e12


@pytest.mark.parametrize("barriers, T, p_ce, rate, t_full", [
    (WZ, 673.15, 3.9198e-11, 74.477, 1.3427e4),     # wurtzite at 400 C
    (ZB, 398.15, 9.7174e-12, 18.463, 5.4162e4),     # zinc blende at 125 C
    (WZ, 398.15, 2.5433e-18, 4.8322e-6, 2.0694e11),  # wurtzite at 125 C
])
def test_t_fc_hand_values(barriers, T, p_ce, rate, t_full):
    """N = 1e6 sites: P_CE, f P_CE and t_fc to the 5 digits of the hand values."""
    assert success_probability(T, barriers) == pytest.approx(p_ce, rel=1e-4)
    assert event_rate(T, barriers, F) == pytest.approx(rate, rel=1e-4)
    assert t_fc(1e6, T, barriers, F) == pytest.approx(t_full, rel=1e-4)


def test_entry_points_divide_the_time_and_onset_inverts_it():
    """n entry points take t_fc / n; the onset temperature of n f P_CE t = events gives back T."""
    assert full_conversion_time(1e6, 673.15, WZ, F, entry_points=4) == pytest.approx(
        1.3427e4 / 4, rel=1e-4)
    # a 40 nm x 350 nm CdSe wire (N = 8.06e6 sites) through one entry point at 400 C: 30 h
    assert t_fc(8.06e6, 673.15, WZ, F) / 3600 == pytest.approx(30.06, rel=1e-3)
    T = onset_temperature(events=74.477 * 3600, duration=3600, barriers=WZ,
                          attempt_frequency=F)
    assert T == pytest.approx(673.15, rel=1e-4)
    with pytest.raises(ValueError, match="expected fewer events than attempts"):
        onset_temperature(events=1e20, duration=1.0, barriers=WZ, attempt_frequency=F)
