"""Regime of the exchange at one station of a wire: shell, plug or nothing (issue 12 item 5;
docs/validation.md, "Regime map (issue 12)").

The label is read from the exchanged fraction X along the radius at an axial station, with the
threshold X >= 1/2 of the front (the X = 1/2 level set, as ``shell_thickness``):

- ``nothing``: X < 1/2 at every radius;
- ``plug``: X >= 1/2 on the axis (converted through the axis; the shell thickness is the radius);
- ``shell``: X >= 1/2 somewhere (in practice the surface) but not on the axis.
"""

from __future__ import annotations

import numpy as np

#: X at or above which a point counts as converted (the front is the X = 1/2 level set).
CONVERTED = 0.5

LABELS = ("nothing", "shell", "plug")


def classify_profile(r_nm, x) -> tuple[str, float]:
    """Label and shell thickness (nm) of a radial X profile at one station.

    Args:
        r_nm: Radii (nm) from the axis (first point, r = 0) to the surface (last point),
            increasing.
        x: X (-) at those radii.

    Returns:
        (label, thickness): label in :data:`LABELS`; thickness = the surface radius minus the
        innermost radius with X >= 1/2 (nm), 0 for ``nothing``, the radius for ``plug`` (the
        definition of ``outputs.profiles.shell_thickness``).

    Raises:
        ValueError: radii that do not start on the axis or do not increase, or lengths that
            differ.
    """
    r = np.asarray(r_nm, dtype=float)
    x = np.asarray(x, dtype=float)
    if r.shape != x.shape or r.ndim != 1 or len(r) < 2:
        raise ValueError(f"need two 1D arrays of one length >= 2, got {r.shape} and {x.shape}")
    if r[0] != 0.0 or np.any(np.diff(r) <= 0):
        raise ValueError("radii must start at the axis (0 nm) and increase")
    converted = x >= CONVERTED
    if not converted.any():
        return "nothing", 0.0
    thickness = float(r[-1] - r[converted].min())
    return ("plug" if converted[0] else "shell"), thickness
