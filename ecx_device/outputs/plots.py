"""PNG plots of a run: temperature along the axis, a temperature map, current and T_max vs bias.

Matplotlib (Agg) for line plots; PyVista off-screen for maps. Under MPI the map is drawn only for
serial runs (it would need the whole mesh on one rank); the other plots work on any rank count.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from ecx_device.fem import dolfinx
from ecx_device.outputs.profiles import axial_line, sample
from ecx_device.physics.base import Context
from ecx_device.units import MESH_UNIT


def offscreen_pyvista():
    """PyVista set up for off-screen rendering, with VTK's display-probe warnings silenced
    (there is no X server on a cluster node or in CI; rendering falls back to off-screen)."""
    import pyvista as pv
    from vtkmodules.vtkCommonCore import vtkLogger

    vtkLogger.SetStderrVerbosity(vtkLogger.VERBOSITY_OFF)
    pv.OFF_SCREEN = True
    return pv


def write_plots(out: Path, ctx: Context, rows: list[dict[str, float]], case) -> list[Path]:
    """Write every plot for the final state; returns the files written (rank 0)."""
    if "T" not in ctx.fields:  # isothermal models: the I-V and fields tell the story
        return []
    written = [_axial_profile(out, ctx, case)]
    if ctx.domain.gdim > 1 and ctx.domain.mesh.comm.size == 1:
        written.append(temperature_map(ctx, out / "temperature_map.png"))
    if len({round(r["bias [V]"], 12) for r in rows}) > 1:
        written.append(_bias_plot(out, rows))
    return [p for p in written if p is not None]


def _axial_profile(out: Path, ctx: Context, case) -> Path | None:
    mesh = ctx.domain.mesh
    pts = axial_line(mesh)
    T = sample(ctx.fields["T"], pts)
    # the ohmic model's potential, or (drift-diffusion wire) the electron quasi-Fermi potential
    name, label = (("phi", "potential [V]") if "phi" in ctx.fields
                   else ("phi_n", "electron quasi-Fermi potential [V]"))
    phi = sample(ctx.fields[name], pts)
    if mesh.comm.rank != 0:
        return None
    z = pts[:, ctx.domain.axial_index]
    with (out / "axial_profile.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["z [nm]", "temperature [K]", label])
        w.writerows(zip(z, T, phi))
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    ax.plot(z, T, color="tab:red")
    ax.set_xlabel("position along the wire axis z [nm]")
    ax.set_ylabel("temperature [K]", color="tab:red")
    L = case.geometry.wire.free_length / MESH_UNIT
    if ctx.domain.dimension != "1d":
        ax.axvspan(z.min(), 0.0, color="tab:orange", alpha=0.12, label="Cu")
        ax.axvline(L, color="0.4", ls=":", lw=1)
        ax.text(L, ax.get_ylim()[0], " wire end / W", fontsize=8, va="bottom")
    ax2 = ax.twinx()
    ax2.plot(z, phi, color="tab:blue", lw=1, ls="--")
    ax2.set_ylabel(label, color="tab:blue")
    ax.set_title(f"{case.name}: axis profile at {float(ctx.constants['bias'].value):+.2f} V")
    fig.tight_layout()
    path = out / "temperature_axis.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def temperature_map(ctx: Context, path: Path) -> Path:
    """Off-screen PyVista map of T (axisymmetric: mirrored r-z section; 3D: the y = 0 slice)."""
    pv = offscreen_pyvista()
    mesh = ctx.domain.mesh
    V1 = dolfinx.fem.functionspace(mesh, ("Lagrange", 1))
    T1 = dolfinx.fem.Function(V1)
    T1.interpolate(ctx.fields["T"])
    cells, types, x = dolfinx.plot.vtk_mesh(V1)
    grid = pv.UnstructuredGrid(cells, types, x)
    grid.point_data["T [K]"] = T1.x.array.real
    if ctx.domain.dimension == "axisymmetric":
        grid = grid.merge(grid.reflect((1, 0, 0), point=(0, 0, 0)))
    elif ctx.domain.gdim == 3:
        grid = grid.slice(normal="y", origin=(0, 0, 0))
    plotter = pv.Plotter(off_screen=True, window_size=(900, 1100))
    plotter.add_mesh(grid, scalars="T [K]", cmap="inferno", show_edges=False,
                     scalar_bar_args={"title": "T [K]", "vertical": True})
    if ctx.domain.gdim == 3:
        plotter.view_xz()
    else:
        plotter.view_xy()
    plotter.add_text("temperature (lengths in nm)", font_size=10)
    plotter.screenshot(str(path))
    plotter.close()
    return path


def iv_plot(path: Path, rows: list[dict[str, float]], title: str) -> Path:
    """I-V curve on linear and logarithmic current axes, and the peak wire temperature against
    the bias when the sweep solved heat (ohmic model, self-heated drift-diffusion wire)."""
    plt = _pyplot()
    v = np.array([r["bias [V]"] for r in rows])
    i = np.array([r["current [A]"] for r in rows])
    heated = all("wire_T_max [K]" in r for r in rows)
    fig, axes = plt.subplots(1, 3 if heated else 2, figsize=(13.5 if heated else 9, 3.6))
    a1, a2 = axes[:2]
    if heated:
        axes[2].plot(v, [r["wire_T_max [K]"] for r in rows], "o-", ms=3, color="tab:red")
        axes[2].set_xlabel("bias on Cu against W [V]")
        axes[2].set_ylabel("peak wire temperature [K]")
    a1.plot(v, i, "o-", ms=3)
    a1.axhline(0, color="0.7", lw=0.8)
    a1.set_xlabel("bias on Cu against W [V]")
    a1.set_ylabel("current [A]")
    biased = np.abs(v) > 1e-9  # at 0 V the current is round-off, which would swamp a log axis
    a2.semilogy(v[biased], np.maximum(np.abs(i[biased]), np.finfo(float).tiny), "o", ms=3)
    a2.set_xlabel("bias on Cu against W [V]")
    a2.set_ylabel("|current| [A]")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _bias_plot(out: Path, rows: list[dict[str, float]]) -> Path:
    plt = _pyplot()
    v = np.array([r["bias [V]"] for r in rows])
    i = np.array([r["current [A]"] for r in rows])
    t = np.array([r["wire_T_max [K]"] for r in rows])
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.6))
    a1.plot(v, i * 1e6, "o-")
    a1.set_xlabel("bias on Cu [V]")
    a1.set_ylabel("current [µA]")
    a2.plot(v, t, "o-", color="tab:red")
    a2.set_xlabel("bias on Cu [V]")
    a2.set_ylabel("peak wire temperature [K]")
    fig.tight_layout()
    path = out / "bias_sweep.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _pyplot():
    """matplotlib.pyplot on the file-only Agg backend (no display on clusters or in CI)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def exchange_plots(out: Path, rows: list[dict[str, float]], case, rank: int = 0) -> list[Path]:
    """Time histories of an exchange run: front position and exchanged volume; current and peak
    temperature; Cu/Cd rates and the balance errors (rank 0)."""
    if rank != 0:
        return []
    plt = _pyplot()
    t = np.array([r["time [s]"] for r in rows])
    col = lambda k: np.array([r[k] for r in rows])  # noqa: E731
    fig, ax = plt.subplots(2, 2, figsize=(10, 7))
    ax[0, 0].plot(t, col("front_position [nm]"), "o-", ms=2)
    ax[0, 0].set_ylabel("front position (X = 1/2) [nm]")
    a2 = ax[0, 0].twinx()
    a2.plot(t, col("exchanged_volume [nm^3]"), color="tab:orange")
    a2.set_ylabel("exchanged volume [nm$^3$]", color="tab:orange")
    for k, lab in (("current [A]", "electronic"), ("ionic_current [A]", "ionic (Cu$^+$ in)")):
        y = np.abs(col(k))
        ax[0, 1].plot(t[y > 0], y[y > 0], label=lab)
    ax[0, 1].set_yscale("log")
    ax[0, 1].set_ylabel("|current| [A]")
    ax[0, 1].legend(fontsize=8)
    b2 = ax[0, 1].twinx()
    b2.plot(t, col("wire_T_max [K]"), color="tab:red")
    b2.set_ylabel("peak wire T [K]", color="tab:red")
    for k, lab in (("cu_inflow_rate [1/s]", "Cu in"), ("cd_sublimation_rate [1/s]", "Cd sublimed"),
                   ("cd_kickout_rate [1/s]", "Cd kicked out")):
        y = np.abs(col(k))
        ax[1, 0].plot(t[y > 0], y[y > 0], label=lab)  # zeros have no place on a log axis
    ax[1, 0].set_yscale("log")
    ax[1, 0].set_ylabel("rate [atoms/s]")
    ax[1, 0].legend(fontsize=8)
    for k in ("cu_balance_error [-]", "cd_balance_error [-]"):
        y = col(k)
        ax[1, 1].plot(t[y > 0], y[y > 0], label=k.split(" ")[0])
    ax[1, 1].set_yscale("log")
    ax[1, 1].set_ylabel("relative balance error")
    ax[1, 1].legend(fontsize=8)
    for a in ax.ravel():
        a.set_xlabel("time [s]")
    fig.suptitle(f"{case.name}: exchange history")
    fig.tight_layout()
    path = out / "exchange_history.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return [path]


def composition_map(path, z: np.ndarray, r: np.ndarray, X: np.ndarray, title: str) -> Path:
    """X on the (z, r) half-plane of the wire, mirrored about the axis (lengths in nm)."""
    plt = _pyplot()
    full_r = np.concatenate([-r[::-1], r])
    full_X = np.concatenate([X[:, ::-1], X], axis=1)
    fig, ax = plt.subplots(figsize=(8, 2.4))
    m = ax.pcolormesh(z, full_r, full_X.T, vmin=0, vmax=1, cmap="viridis", shading="auto")
    fig.colorbar(m, ax=ax, label="X (0 CdS, 1 Cu$_2$S)")
    ax.set_xlabel("z from the Cu surface [nm]")
    ax.set_ylabel("r [nm]")
    ax.set_aspect("equal")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)
