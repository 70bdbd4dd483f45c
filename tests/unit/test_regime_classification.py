"""The regime map's classification (ecx_device/outputs/regime.py; docs/validation.md, "Regime
map (issue 12)") labels known radial X profiles: a converted surface over an unconverted core
is a shell of the right thickness, a converted axis is a plug, nothing at or above 1/2 is
nothing."""

import numpy as np
import pytest

from ecx_device.outputs.regime import classify_profile

R_NM = 10.0
r = np.linspace(0.0, R_NM, 201)  # 0.05 nm apart


def front(position_nm: float, width_nm: float = 0.3, outside: float = 1.0, inside: float = 0.0):
    """A smooth front at ``position_nm`` (X = 1/2 there) between ``inside`` (r small) and
    ``outside`` (r large)."""
    return inside + (outside - inside) / (1.0 + np.exp(-(r - position_nm) / width_nm))


@pytest.mark.parametrize("depth_nm", [1.0, 3.45, 7.0])
def test_surface_converted_core_not_is_a_shell_of_its_depth(depth_nm):
    label, thickness = classify_profile(r, front(R_NM - depth_nm))
    assert label == "shell"
    assert thickness == pytest.approx(depth_nm, abs=0.06)  # one sample spacing


@pytest.mark.parametrize("x", [np.ones_like(r), front(5.0, outside=0.6, inside=0.9),
                               np.full_like(r, 0.5)])
def test_converted_through_the_axis_is_a_plug(x):
    assert classify_profile(r, x) == ("plug", pytest.approx(R_NM))


@pytest.mark.parametrize("x", [np.zeros_like(r), front(8.0, outside=0.49),
                               np.full_like(r, 0.4999)])
def test_nothing_at_or_above_one_half_is_nothing(x):
    assert classify_profile(r, x) == ("nothing", 0.0)


def test_a_core_converted_more_than_a_threshold_surface_is_still_a_plug_not_a_shell():
    """X just below 1/2 on the axis and 1 at the surface: a shell; just above: a plug."""
    x = front(6.0)
    x[0] = 0.49
    assert classify_profile(r, x)[0] == "shell"
    x[0] = 0.51
    assert classify_profile(r, x)[0] == "plug"


def test_radii_must_start_on_the_axis_and_increase():
    with pytest.raises(ValueError, match="start at the axis"):
        classify_profile(r[1:], np.ones(len(r) - 1))
    swapped = r.copy()
    swapped[[5, 6]] = swapped[[6, 5]]  # starts on the axis, but does not increase
    with pytest.raises(ValueError, match="increase"):
        classify_profile(swapped, np.ones_like(r))
    with pytest.raises(ValueError, match="one length"):
        classify_profile(r, np.ones(3))
