"""PNG plots of a run: temperature along the axis, a temperature map, current and T_max vs bias.

Matplotlib (Agg) for line plots; PyVista off-screen for maps. Under MPI the map is drawn only for
serial runs (it would need the whole mesh on one rank); the other plots work on any rank count.
A panel without data (no front yet, a rate that is zero throughout) is not drawn as empty axes:
it says what is missing instead (:func:`no_data`).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from ecx_device.fem import dolfinx
from ecx_device.outputs.profiles import axial_line, sample
from ecx_device.outputs.quantities import csv_cell
from ecx_device.outputs.registry import (BIAS, CD_BALANCE_ERROR, CD_KICKOUT_RATE,
                                         CD_SUBLIMATION_RATE, CU_BALANCE_ERROR, CU_INFLOW_RATE,
                                         CURRENT, EXCHANGED_VOLUME, FRONT_POSITION, IONIC_CURRENT,
                                         TIME, WIRE_T_MAX)
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
    if len({round(r[BIAS], 12) for r in rows}) > 1:
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
        w.writerows([[csv_cell(float(v)) for v in row] for row in zip(z, T, phi)])
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
    v = np.array([r[BIAS] for r in rows])
    i = np.array([r[CURRENT] for r in rows])
    heated = all(WIRE_T_MAX in r for r in rows)
    fig, axes = plt.subplots(1, 3 if heated else 2, figsize=(13.5 if heated else 9, 3.6))
    a1, a2 = axes[:2]
    if heated:
        axes[2].plot(v, [r[WIRE_T_MAX] for r in rows], "o-", ms=3, color="tab:red")
        axes[2].set_xlabel("bias on Cu against W [V]")
        axes[2].set_ylabel("peak wire temperature [K]")
    a1.plot(v, i, "o-", ms=3)
    a1.axhline(0, color="0.7", lw=0.8)
    a1.set_xlabel("bias on Cu against W [V]")
    a1.set_ylabel("current [A]")
    biased = np.abs(v) > 1e-9  # at 0 V the current is round-off, which would swamp a log axis
    if biased.any():
        a2.semilogy(v[biased], np.maximum(np.abs(i[biased]), np.finfo(float).tiny), "o", ms=3)
        a2.set_ylabel("|current| [A]")
    else:
        no_data(a2, "every bias is 0 V:\nno |current| to show on a log axis")
    a2.set_xlabel("bias on Cu against W [V]")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _bias_plot(out: Path, rows: list[dict[str, float]]) -> Path:
    plt = _pyplot()
    v = np.array([r[BIAS] for r in rows])
    i = np.array([r[CURRENT] for r in rows])
    t = np.array([r[WIRE_T_MAX] for r in rows])
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


def no_data(ax, message: str) -> None:
    """Say in panel ``ax`` why it has no curve (instead of empty axes with a meaningless scale)."""
    ax.text(0.5, 0.5, message, transform=ax.transAxes, ha="center", va="center", fontsize=10,
            color="0.35")
    if not ax.lines:
        ax.set_yticks([])


def _log_panel(ax, t: np.ndarray, curves: list[tuple[np.ndarray, str]], ylabel: str,
               empty: str) -> None:
    """Positive values of each curve on a log axis (zeros and undefined values have no place
    there); when no curve has one, the panel says ``empty`` instead."""
    for y, label in curves:
        shown = y > 0  # NaN compares False: undefined values are left out too
        if shown.any():
            ax.plot(t[shown], y[shown], label=label)
    if ax.lines:
        ax.set_yscale("log")
        ax.set_ylabel(ylabel)
        ax.legend(fontsize=8)
    else:
        no_data(ax, empty)


def _pyplot():
    """matplotlib.pyplot on the file-only Agg backend (no display on clusters or in CI)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def exchange_plots(out: Path, rows: list[dict[str, float]], case, rank: int = 0) -> list[Path]:
    """``exchange_history.png`` (:func:`exchange_history_figure`), written by rank 0."""
    if rank != 0:
        return []
    fig = exchange_history_figure(rows, f"{case.name}: exchange history")
    path = out / "exchange_history.png"
    fig.savefig(path, dpi=110)
    _pyplot().close(fig)
    return [path]


def exchange_history_figure(rows: list[dict[str, float]], title: str):
    """Time histories of an exchange run (a Matplotlib figure): front position and exchanged
    volume; current and peak temperature; Cu/Cd rates; the balance errors. Front position NaN
    (no front) or rates that are zero throughout leave their curve out and say so in the panel."""
    plt = _pyplot()
    t = np.array([r[TIME] for r in rows])
    col = lambda k: np.array([r[k] for r in rows])  # noqa: E731
    fig, ax = plt.subplots(2, 2, figsize=(10, 7))
    front = col(FRONT_POSITION)  # NaN while no node has X >= 1/2
    has_front = np.isfinite(front)
    volume_axis = ax[0, 0]
    if has_front.any():
        ax[0, 0].plot(t[has_front], front[has_front], "o-", ms=2)
        ax[0, 0].set_ylabel("front position (X = 1/2) [nm]")
        volume_axis = ax[0, 0].twinx()
    else:  # the volume alone, on the left axis, and why there is no front curve
        ax[0, 0].text(0.03, 0.95, "no front yet (no node with X \u2265 1/2)",
                      transform=ax[0, 0].transAxes, va="top", fontsize=9, color="0.35")
    volume_axis.plot(t, col(EXCHANGED_VOLUME), color="tab:orange")
    volume_axis.set_ylabel("exchanged volume [nm$^3$]", color="tab:orange")
    _log_panel(ax[0, 1], t, [(np.abs(col(CURRENT)), "electronic"),
                             (np.abs(col(IONIC_CURRENT)), "ionic (Cu$^+$ in)")],
               "|current| [A]", "no current: 0 A throughout")
    b2 = ax[0, 1].twinx()
    b2.plot(t, col(WIRE_T_MAX), color="tab:red")
    b2.set_ylabel("peak wire T [K]", color="tab:red")
    _log_panel(ax[1, 0], t, [(np.abs(col(k)), lab) for k, lab in (
        (CU_INFLOW_RATE, "Cu in"), (CD_SUBLIMATION_RATE, "Cd sublimed"),
        (CD_KICKOUT_RATE, "Cd kicked out"))], "rate [atoms/s]",
        "no Cu inflow, Cd sublimation or kick-out:\nevery rate is 0 throughout")
    _log_panel(ax[1, 1], t, [(col(k), k.split(" ")[0]) for k in
                             (CU_BALANCE_ERROR, CD_BALANCE_ERROR)],
               "relative balance error", "Cu and Cd balances close exactly:\nerror 0 at every step")
    for a in ax.ravel():
        a.set_xlabel("time [s]")
        # short runs (ms) would otherwise print every tick in full, overlapping its neighbours
        a.ticklabel_format(axis="x", style="sci", scilimits=(-2, 3))
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def composition_map(path, z: np.ndarray, r: np.ndarray, X: np.ndarray, title: str,
                    z_label: str | None = None) -> Path:
    """X on the (z, r) half-plane of the wire, mirrored about the axis (lengths in nm); NaN
    (outside a particle) is left blank."""
    plt = _pyplot()
    full_r = np.concatenate([-r[::-1], r])
    full_X = np.concatenate([X[:, ::-1], X], axis=1)
    slender = (z[-1] - z[0]) > 3 * 2 * r[-1]  # a wire; else a particle about as long as wide
    fig, ax = plt.subplots(figsize=(8, 2.4) if slender else (5.5, 4.5))
    m = ax.pcolormesh(z, full_r, full_X.T, vmin=0, vmax=1, cmap="viridis", shading="auto")
    fig.colorbar(m, ax=ax, label="X (0 host, 1 exchanged)")
    ax.set_xlabel(z_label or "z from the Cu surface [nm]")
    ax.set_ylabel("r [nm]")
    ax.set_aspect("equal")
    exchanged = (np.nan_to_num(X) > 0).any()
    ax.set_title(title if exchanged else f"{title} (X = 0 everywhere: nothing exchanged)",
                 fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)
