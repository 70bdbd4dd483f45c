"""Prescribed composition: the exchanged fraction X of the wire's cation sublattice.

X = 0 is CdS, X = 1 is Cu2S. Until the exchange dynamics evolve X, a case prescribes it
(``composition`` section): uniform, an axial segment, a core-shell with a shell thickness and
each end open or closed, or a table read from a file. Fronts are smoothed over ``front_width``
with a tanh (the reaction zone is ~1 nm wide, model.md section 1). Coordinates in nm as on the
mesh: axial z from the Cu surface (z = 0) to the wire's far end (z = L); radial r from the axis.
This module is geometry only: it evaluates X at points and knows nothing of the physics.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ecx_device.errors import CaseError
from ecx_device.units import MESH_UNIT


def _step(distance: np.ndarray, width: float) -> np.ndarray:
    """Smooth indicator: 1 where ``distance`` > 0 (inside), 0 outside, tanh over ``width``."""
    if width <= 0:
        return (distance > 0).astype(float)
    return 0.5 * (1.0 + np.tanh(distance / (0.5 * width)))


class CompositionProfile:
    """X(z, r) for a wire of radius ``radius`` and free length ``length`` (nm).

    Args:
        spec: The case's composition section (lengths in m).
        radius: Wire radius (nm).
        length: Free wire length L (nm).
        embedded: Length of wire inside the Cu electrode (nm), z from -embedded to 0.
    """

    def __init__(self, spec, radius: float, length: float, embedded: float):
        self.spec, self.radius = spec, radius
        nm = 1.0 / MESH_UNIT  # case lengths (m) -> mesh coordinates
        self.width = spec.front_width * nm
        self.fraction = spec.fraction
        self.z0 = -embedded if spec.start is None else spec.start * nm
        self.z1 = length if spec.end is None else spec.end * nm
        self.shell = None if spec.shell_thickness is None else spec.shell_thickness * nm
        self._table = None
        if spec.shape == "file":
            self._table = _read_table(Path(spec.file))

    def __call__(self, z: np.ndarray, r: np.ndarray) -> np.ndarray:
        """X at axial positions ``z`` and radii ``r`` (nm), arrays of one shape."""
        shape = self.spec.shape
        if shape == "uniform":
            return np.full_like(z, self.fraction, dtype=float)
        if shape == "file":
            return self._from_table(z, r)
        # signed distance inside the axial window [z0, z1]; a window edge at the wire's own end
        # (start or end not given) is no front, so it does not taper X there (else the end face
        # of a wire exchanged up to its end would sit at X = 1/2, on the front)
        lo = self.z0 if self.spec.start is not None else -np.inf
        hi = self.z1 if self.spec.end is not None else np.inf
        axial = np.minimum(z - lo, hi - z)
        if shape == "axial_segment":
            return self.fraction * _step(axial, self.width)
        # core-shell: inside the shell = within `shell` of the lateral surface, or of an end face
        # that is closed; the core is what remains.
        depth = self.radius - r
        in_shell = self.shell - depth
        if self.spec.closed_w_end:  # the shell also covers the window's W-side end face
            in_shell = np.maximum(in_shell, self.shell - (self.z1 - z))
        if self.spec.closed_cu_end:
            in_shell = np.maximum(in_shell, self.shell - (z - self.z0))
        return self.fraction * _step(in_shell, self.width) * _step(axial, self.width)

    def front_segments(self) -> list[tuple[float, float, float, float]] | None:
        """The fronts (the X = fraction/2 level set), each an axis-aligned segment
        (z0, r0, z1, r1) of the (z, r) half-plane in nm: r0 == r1 (a cylinder about the axis)
        or z0 == z1 (a disk or ring across it). None for a table (``file``), whose fronts are
        not known in closed form; [] where X has no front (``uniform``, ``none``)."""
        shape = self.spec.shape
        if shape == "file":
            return None
        if shape not in ("axial_segment", "core_shell"):
            return []
        a, lo, hi = self.radius, self.z0, self.z1
        starts, ends = self.spec.start is not None, self.spec.end is not None
        if shape == "axial_segment":
            return [(z, 0.0, z, a) for z, given in ((lo, starts), (hi, ends)) if given]
        s = min(self.shell, a)
        closed_cu, closed_w = self.spec.closed_cu_end, self.spec.closed_w_end
        side_lo = lo + s if closed_cu else lo  # the lateral front ends at a closing cap
        side_hi = hi - s if closed_w else hi
        out = []
        if s < a and side_hi > side_lo:
            out.append((side_lo, a - s, side_hi, a - s))
        # a closed end's cap across the core, and a window edge: across the shell only where
        # the end is open (the core is unexchanged on both sides), across the wire where closed
        for cap, closed in ((side_lo, closed_cu), (side_hi, closed_w)):
            if closed and s < a:
                out.append((cap, 0.0, cap, a - s))
        for edge, given, closed in ((lo, starts, closed_cu), (hi, ends, closed_w)):
            if given:
                out.append((edge, 0.0 if closed else a - s, edge, a))
        return out

    def cross_section_average(self, z: np.ndarray, samples: int = 64) -> np.ndarray:
        """Area-weighted mean of X over the wire cross-section at each ``z`` (for 1D)."""
        r = (np.arange(samples) + 0.5) / samples * self.radius  # midpoint rule in r
        zz, rr = np.meshgrid(z, r, indexing="ij")
        return (self(zz, rr) * rr).sum(axis=1) / rr[0].sum()

    def on_mesh(self, x: np.ndarray, dimension: str) -> np.ndarray:
        """X at mesh points ``x`` (3 x N, nm) of a 1D, axisymmetric or 3D mesh."""
        if dimension == "1d":
            return self.cross_section_average(x[0])
        if dimension == "axisymmetric":
            return self(x[1], np.abs(x[0]))
        return self(x[2], np.hypot(x[0], x[1]))

    def _from_table(self, z: np.ndarray, r: np.ndarray) -> np.ndarray:
        zt, rt, xt = self._table
        # bilinear on the regular (z, r) grid, held constant outside it
        iz = np.clip(np.searchsorted(zt, z) - 1, 0, len(zt) - 2)
        ir = np.clip(np.searchsorted(rt, r) - 1, 0, len(rt) - 2)
        tz = np.clip((z - zt[iz]) / (zt[iz + 1] - zt[iz]), 0, 1)
        tr = np.clip((r - rt[ir]) / (rt[ir + 1] - rt[ir]), 0, 1)
        return ((1 - tz) * (1 - tr) * xt[iz, ir] + tz * (1 - tr) * xt[iz + 1, ir]
                + (1 - tz) * tr * xt[iz, ir + 1] + tz * tr * xt[iz + 1, ir + 1])


def _read_table(path: Path):
    """A composition table: .npz with z [nm] (nz), r [nm] (nr), X (nz x nr), in [0, 1]."""
    if not path.is_file():
        raise CaseError(f"composition.file = {str(path)!r}: file does not exist")
    try:
        with np.load(path) as data:
            z, r, x = (np.asarray(data[k], dtype=float) for k in ("z", "r", "X"))
    except (KeyError, ValueError, OSError) as err:
        raise CaseError(f"composition.file = {str(path)!r}: expected an .npz with arrays z [nm], "
                        f"r [nm] and X (len(z) x len(r)) ({err})") from None
    if (x.shape != (len(z), len(r)) or len(z) < 2 or len(r) < 2 or np.any(np.diff(z) <= 0)
            or np.any(np.diff(r) <= 0) or np.any((x < 0) | (x > 1)) or not np.isfinite(x).all()):
        raise CaseError(f"composition.file = {str(path)!r}: need increasing z and r (>= 2 each) "
                        "and X of shape (len(z), len(r)) with values in [0, 1]")
    return z, r, x
