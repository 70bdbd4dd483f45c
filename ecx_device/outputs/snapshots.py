"""Composition snapshots of an exchange run: X on a regular (z, r) grid as a table in the
``composition.file`` format (so ``ecx-device iv`` can sweep the I-V of that stage) and as a map."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ecx_device.outputs.profiles import sample, wire_points
from ecx_device.units import MESH_UNIT

#: Folder of the snapshots in a run folder.
FOLDER = "snapshots"


def snapshot_table(out: Path, t: float) -> Path:
    """Path of the composition table of the snapshot at ``t`` (s)."""
    return Path(out) / FOLDER / f"composition_t{t:.6g}s.npz"


def write_snapshot(out: Path, X, t: float, case) -> None:
    """Write the snapshot of the composition ``X`` (P1 Function on the wire) at time ``t`` (s):
    ``snapshots/composition_t<t>s.npz`` (z [nm], r [nm], X) and ``.png`` (rank 0)."""
    geom = case.geometry
    z0, L, R = _extent(geom)
    z = np.linspace(z0, L, 241)
    r = np.linspace(0.0, R * (1 - 1e-9), 41)
    zz, rr = np.meshgrid(z, r, indexing="ij")
    if geom.dimension == "1d":
        line = sample(X, wire_points("1d", z, 0 * z))
        values = np.repeat(line[:, None], len(r), axis=1)
    else:
        values = sample(X, wire_points(geom.dimension, zz.ravel(), rr.ravel()))
    values = values.reshape(len(z), len(r))
    # outside a sphere the grid has no value: NaN there (blank in the map); a wire fills its grid
    values = np.clip(values if geom.particle is not None else np.nan_to_num(values, nan=0.0),
                     0.0, 1.0)
    if X.function_space.mesh.comm.rank != 0:
        return
    table = snapshot_table(out, t)
    table.parent.mkdir(exist_ok=True)
    np.savez(table, z=z, r=r, X=values)
    from ecx_device.outputs.plots import composition_map

    composition_map(table.with_suffix(".png"), z, r, values,
                    f"{case.name}: X at t = {t:.4g} s",
                    "z [nm]" if geom.particle is not None else None)


def _extent(geom) -> tuple[float, float, float]:
    """(z_min, z_max, radius) of the wire (embedded part included) or particle, in nm."""
    p = geom.particle
    if p is not None:
        R = p.diameter / 2 / MESH_UNIT
        return (-R, R, R) if p.shape == "sphere" else (0.0, p.length / MESH_UNIT, R)
    R = geom.wire.diameter / 2 / MESH_UNIT
    z0 = -geom.wire.cu_contact_length / MESH_UNIT if geom.dimension != "1d" else 0.0
    return z0, geom.wire.free_length / MESH_UNIT, R
