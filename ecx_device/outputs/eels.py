"""Synthetic STEM-EELS maps: Cd and Cu densities projected along the electron beam.

The areal density seen by a beam along unit vector b at image point s is the chord integral

    N(s) = int n(s + t b) dt          [m^-2],

computed here by sampling the run's density fields on a regular grid (pixel size in the image
plane, half a pixel along the beam) and summing. An axisymmetric run is revolved about its axis:
the 3D point (x, y, z) takes the value of the r-z field at (sqrt(x^2 + y^2), z). Outputs: one PNG
per element, a two-colour overlay (host cation red, guest green: Cd and Cu for the device, as in
the experimental maps; Pb and Cd for a PbS nanocrystal) and a .npz with the arrays, the pixel
size and the image axes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ecx_device.errors import CaseError
from ecx_device.units import MESH_UNIT

FIELDS = {"Cd": "Cd_density [m^-3]", "Cu": "Cu_density [m^-3]"}


def element_fields(elements: dict | None = None) -> dict[str, str]:
    """Host and guest element -> density field, in that order (host red, guest green); the
    ``elements`` entry of a run's markers.json (a particle run: e.g. Pb and Cd), else Cd/Cu."""
    if not elements:
        return dict(FIELDS)
    return {e: f"{e}_density [m^-3]" for e in (elements["host"], elements["guest"])}
_AXES = {"x": 0, "y": 1, "z": 2}


def project(grid, dimension: str, beam: str, pixel: float,
            bounds: tuple[float, ...] | None = None,
            wire_tag: int | None = None,
            fields: dict[str, str] | None = None) -> tuple[dict[str, np.ndarray], dict]:
    """Project the density fields of a PyVista dataset along ``beam``.

    Args:
        grid: Dataset with the density arrays (cell or point data), coordinates in nm.
        dimension: "axisymmetric" (r = x, z = y, revolved) or "3d".
        beam: "x", "y" or "z" (the wire axis is z).
        pixel: Pixel size (nm).
        bounds: (xmin, xmax, ymin, ymax, zmin, zmax) of the 3D box to image (nm); default the
            dataset's extent (revolved for axisymmetric data).
        wire_tag: If given, only points in cells whose ``region`` equals it count (the density
            fields describe the wire; the electrodes are masked out).
        fields: Element -> density field name, host first (default Cd, Cu).

    Returns:
        ``{element: areal density image [m^-2]}`` (rows: second image axis, columns: first) and
        a dict with the image axes, their coordinates (nm) and the pixel size.
    """
    import pyvista as pv

    if beam not in _AXES:
        raise CaseError(f"--beam {beam!r}: expected x, y or z")
    if dimension not in ("axisymmetric", "3d"):
        raise CaseError(f"EELS maps need a 2D axisymmetric or 3D run, not {dimension!r}")
    if not pixel > 0:
        raise CaseError(f"--pixel {pixel}: expected a positive size in nm")
    if bounds is None:
        b = grid.bounds
        if dimension == "axisymmetric":
            rmax = max(abs(b[0]), abs(b[1]))
            bounds = (-rmax, rmax, -rmax, rmax, b[2], b[3])
        else:
            bounds = tuple(b)
    lo = np.array(bounds[0::2], dtype=float)
    hi = np.array(bounds[1::2], dtype=float)
    k = _AXES[beam]
    image_axes = [a for a in range(3) if a != k]
    coords = [np.arange(lo[a] + pixel / 2, hi[a], pixel) for a in range(3)]
    coords[k] = np.arange(lo[k] + pixel / 4, hi[k], pixel / 2)
    if any(len(c) == 0 for c in coords):
        raise CaseError(f"--pixel {pixel} nm: larger than the imaged region")
    X, Y, Z = np.meshgrid(*coords, indexing="ij")
    pts = np.column_stack([X.ravel(), Y.ravel(), Z.ravel()])
    if dimension == "axisymmetric":
        probe_pts = np.column_stack([np.hypot(pts[:, 0], pts[:, 1]), pts[:, 2],
                                     np.zeros(len(pts))])
    else:
        probe_pts = pts
    sampled = pv.PolyData(probe_pts).sample(grid)
    valid = np.asarray(sampled.point_data["vtkValidPointMask"], dtype=bool)
    if wire_tag is not None:
        valid &= np.asarray(sampled.point_data["region"]) == wire_tag
    dl = (pixel / 2) * MESH_UNIT  # m along the beam
    images = {}
    for element, name in (fields or FIELDS).items():
        if name not in sampled.point_data:
            raise CaseError(f"the run has no {name!r} field (prescribe a composition)")
        n = np.where(valid, np.asarray(sampled.point_data[name], dtype=float), 0.0)
        images[element] = n.reshape(X.shape).sum(axis=k).T * dl  # rows: second image axis
    info = {"axes": ["xyz"[a] for a in image_axes],
            "coordinates_nm": [coords[a] for a in image_axes], "pixel_nm": pixel}
    return images, info


def write_maps(out: Path, images: dict[str, np.ndarray], info: dict, title: str) -> list[Path]:
    """PNG maps (one per element and an overlay) and an .npz with the arrays."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    (h_ax, v_ax), (h, v) = info["axes"], info["coordinates_nm"]
    extent = (h[0] - info["pixel_nm"] / 2, h[-1] + info["pixel_nm"] / 2,
              v[0] - info["pixel_nm"] / 2, v[-1] + info["pixel_nm"] / 2)
    written = []
    host, guest = list(images)
    for element, cmap in ((host, "Reds"), (guest, "Greens")):
        fig, ax = plt.subplots(figsize=(4, 6))
        im = ax.imshow(images[element], origin="lower", extent=extent, cmap=cmap)
        fig.colorbar(im, ax=ax, label=f"{element} areal density [m$^{{-2}}$]")
        ax.set_xlabel(f"{h_ax} [nm]")
        ax.set_ylabel(f"{v_ax} [nm]")
        ax.set_title(f"{title}: {element}")
        fig.tight_layout()
        path = out / f"eels_{element}.png"
        fig.savefig(path, dpi=120)
        plt.close(fig)
        written.append(path)
    peak = max(images[host].max(), images[guest].max(), np.finfo(float).tiny)
    rgb = np.zeros((*images[host].shape, 3))
    rgb[..., 0] = images[host] / peak
    rgb[..., 1] = images[guest] / peak
    fig, ax = plt.subplots(figsize=(4, 6))
    ax.imshow(np.clip(rgb, 0, 1), origin="lower", extent=extent)
    ax.set_xlabel(f"{h_ax} [nm]")
    ax.set_ylabel(f"{v_ax} [nm]")
    ax.set_title(f"{title}: {host} (red) / {guest} (green)")
    fig.tight_layout()
    path = out / "eels_overlay.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    written.append(path)
    np.savez(out / "eels.npz", **images, pixel_nm=info["pixel_nm"],
             horizontal_nm=h, vertical_nm=v, axes=np.array(info["axes"]))
    written.append(out / "eels.npz")
    return written


def eels_for_run(run_dir: Path, time: float | None, beam: str, pixel: float) -> list[Path]:
    """Maps of a run folder at the step nearest ``time`` (s; default the last)."""
    import json

    import pyvista as pv

    run_dir = Path(run_dir)
    pvd = run_dir / "fields" / "fields.pvd"
    markers = run_dir / "markers.json"
    if not pvd.is_file() or not markers.is_file():
        raise CaseError(f"{run_dir}: not a run folder with fields")
    info = json.loads(markers.read_text())
    reader = pv.PVDReader(str(pvd))
    times = list(reader.time_values)
    t = times[-1] if time is None else min(times, key=lambda s: abs(s - time))
    reader.set_active_time_value(t)
    grid = reader.read()[0]
    wire = grid.threshold([info["cells"]["wire"]] * 2, scalars="region")
    b = wire.bounds
    pad = 2 * pixel
    if info["dimension"] == "axisymmetric":
        r = max(abs(b[0]), abs(b[1])) + pad
        bounds = (-r, r, -r, r, b[2] - pad, b[3] + pad)
    else:
        bounds = (b[0] - pad, b[1] + pad, b[2] - pad, b[3] + pad, b[4] - pad, b[5] + pad)
    images, meta = project(grid, info["dimension"], beam, pixel, bounds,
                           wire_tag=info["cells"]["wire"],
                           fields=element_fields(info.get("elements")))
    folder = run_dir / f"eels_t{t:.6g}s_beam{beam}"
    return write_maps(folder, images, meta, f"t = {t:.4g} s, beam {beam}")
