"""Regenerate docs/figures/regime_map.png and regime_map.csv: shell / plug / nothing at a station
of a small wire over the sub-surface/bulk Cu diffusivity ratio and the wire temperature (issue 12
item 5; docs/validation.md, "Regime map (issue 12)").

Usage:
    PYTHONPATH=. nice .venv/bin/python docs/make_regime_map.py            # the sweep (~2 min)
    PYTHONPATH=. .venv/bin/python docs/make_regime_map.py --from CSV      # redraw from a CSV

Each cell is the exchange alone on the wire of a 2D axisymmetric device (the setup of
tests/verification/test_subsurface.py), with the CdS_nanowire data and these parameters SET
EXTERNALLY, because the device model does not provide them (docs/validation.md says why):

- the wire temperature T, uniform (the self-heated drift-diffusion wire heats by ~1 uK at 1 V;
  a heat-sink temperature or electron-beam heating would have to supply it);
- the Cu supply: a chemical source on the Cu|wire interface, J = k_s N (c_s - c), with
  c_s = SUPPLY_FRACTIONS (0.02 and 0.2 Cu per S site, the map's third axis; 0.2 is the
  verification tests' value, the CdS solubility limit c_lim is 0.01) and k_s = 0.3 nm x KICK_RATE (the model's anode drop of a few mV would
  hold c ~ c_s ~ 1e-8 and nothing enters);
- the sub-surface enhancement a_par = ``cu_subsurface_enhancement_axial`` (the map's axis; the
  material's estimate is exp(0.24 eV / kT));
- the kick-out as a fast first-order sink (attempt frequency KICK_RATE, barrier 0) and the
  displaced Cd not blocking (``cd_metal_solubility`` set huge): the full reversible chemistry
  with Cd blocking took ~2 s per step and >100 steps per 0.1 s on 2 shared cores (measured
  2026-12-05), too slow for a map;
- no field (psi = 0), no vacancies (filling barrier 100 eV, sublimation off);
- the converted phase keeps the host's (overridden) data: no superionic Cu2S path, and the
  layer's enhancement stays a_par where X = 1 (with Cu2S's data mixed in by X the properties
  drifted to Cu2S's attempt frequency and barriers and the steps failed at 600 K).

The bulk Cu diffusivity D_b(T) is the material's (Sullivan 1969), so T acts through D_b and the
supply's hop rate. The label comes from X along the radius at STATION_NM (outputs/regime.py), and
every cell also gets the shell criterion t_axial / t_radial of ``shell_criterion``
(docs/model.md 8.9) with L the free length and with L the station's distance from the Cu.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).parents[1]
OUT = ROOT / "docs" / "figures"

# -- the sweep (units in the names) ------------------------------------------------------------
RATIOS = (1.0, 10.0, 100.0, 1e3, 1e4)  # a_par, sub-surface / bulk Cu diffusivity along the axis
TEMPERATURES_K = (500.0, 525.0, 550.0, 575.0, 600.0, 650.0)
DURATION_S = 1.0  # Zhang's +1 V for 1 s
STEPS = 16  # backward-Euler steps, t_k = DURATION (k / STEPS)^2 (fine at the start)
RADIUS_NM = 10.0
FREE_LENGTH_NM = 60.0
CONTACT_LENGTH_NM = 4.0
LAYER_NM = 1.5
STATION_NM = 30.0  # from the Cu surface (z = 0), mid free wire
SUPPLY_FRACTIONS = (0.02, 0.2)  # c_s of the Cu source at the Cu|wire interface, per S site
KICK_RATE_PER_S = 1e4  # first-order kick-out rate per unit a/(1+a), as the verification tests

COLUMNS = ("c_supply [-]", "a_par [-]", "T [K]", "label", "shell_thickness [nm]", "X_axis [-]",
           "X_surface [-]", "D_bulk [m^2/s]", "t_axial_free [s]", "t_axial_station [s]",
           "t_radial [s]", "criterion_ratio_free [-]", "criterion_ratio_station [-]",
           "steps", "wall [s]")


def wire_domain():
    """The small axisymmetric wire (a 1.5 nm layer resolved at 0.5 nm) as a wire submesh."""
    from ecx_device.device.geometry import DeviceGeometry
    from ecx_device.device.names import Region
    from ecx_device.mesh import Domain

    geom = DeviceGeometry(
        dimension="axisymmetric", wire_diameter=2 * RADIUS_NM, wire_free_length=FREE_LENGTH_NM,
        cu_contact_length=CONTACT_LENGTH_NM, cu_radius=30.0, cu_thickness=20.0,
        w_apex_radius=8.0, w_contact_depth=2.0, w_height=20.0, wire_mesh_size=2.0,
        contact_mesh_size=2.0, metal_mesh_size=10.0, subsurface_thickness=LAYER_NM,
        subsurface_mesh_size=LAYER_NM / 3)
    wire, _ = Domain.from_geometry(geom).restrict(Region.WIRE)
    return wire


def cell_material(ratio: float, supply: float):
    """CdS_nanowire with the externally set parameters of the module docstring (overrides;
    the zero barriers, which a case override refuses, as constants)."""
    import dataclasses

    from ecx_device.materials import load_material
    from ecx_device.materials.properties import Constant

    material = load_material("CdS_nanowire").with_overrides({
        "cu_subsurface_enhancement_axial": ratio,
        "cu_solubility_limit": supply,
        "exchange_attempt_frequency": f"{KICK_RATE_PER_S} 1/s",
        "vacancy_filling_barrier": "100 eV",
        "cd_metal_solubility": 1e12,
    }, "regime_map")
    zero = Constant(unit="J", source=("case_override",), value=0.0)
    props = dict(material.properties)
    for name in ("interstitial_formation_barrier", "interstitial_hop_barrier",
                 "kick_out_barrier"):
        props[name] = zero
    return dataclasses.replace(material, properties=props)


def run_cell(domain, ratio: float, temperature: float, supply: float
             ) -> tuple[np.ndarray, np.ndarray, int]:
    """X along the radius at the station (r in nm, X) after DURATION_S, and the step count."""
    from ecx_device.device.names import Facet, Region
    from ecx_device.fem import dolfinx
    from ecx_device.outputs.profiles import sample, wire_points
    from ecx_device.physics.base import Context
    from ecx_device.physics.exchange import CationExchange, CuSupply
    from ecx_device.solvers.newton import CoupledProblem

    material = cell_material(ratio, supply)
    ctx = Context.create(domain, {Region.WIRE: material}, heat_sink_temperature=temperature)
    # the exchanged phase carries the same (overridden) data, as in the verification tests: the
    # properties then do not mix towards Cu2S's by X (module docstring)
    ctx.exchanged = {Region.WIRE: material}
    ctx.fields["psi"] = dolfinx.fem.Function(dolfinx.fem.functionspace(domain.mesh,
                                                                       ("Lagrange", 1)))
    module = CationExchange(Facet.CU_WIRE, Facet.W_WIRE, anode=None,
                            site_density=float(material("sulfur_site_density", temperature)),
                            reduction_velocity=1e-300, supply=CuSupply(Facet.CU_WIRE),
                            sublimation=False, evaporation=False)
    problem = CoupledProblem(ctx, [module], degree=1, tolerance=1e-12, max_iterations=50)
    t, steps = 0.0, 0
    for t_next in DURATION_S * (np.arange(1, STEPS + 1) / STEPS) ** 2:
        steps += march(problem, module, t, t_next)
        t = t_next
    r = np.linspace(0.0, RADIUS_NM * (1 - 1e-9), 201)
    x = sample(problem.u["X"], wire_points("axisymmetric", np.full_like(r, STATION_NM), r))
    return r, x, steps


def march(problem, module, t: float, t_next: float, depth: int = 0) -> int:
    """One backward-Euler step t -> t_next, halved (up to 6 times) if Newton fails; the number
    of accepted steps."""
    module.dt.value = t_next - t
    if problem.solve().converged:
        module.accept(problem.u)
        return 1
    for name in module.unknowns:
        problem.u[name].x.array[:] = module.previous[name].x.array
    if depth >= 6:
        raise RuntimeError(f"no convergence from t = {t:g} s with dt = {t_next - t:g} s")
    mid = 0.5 * (t + t_next)
    return march(problem, module, t, mid, depth + 1) + march(problem, module, mid, t_next,
                                                             depth + 1)


def criterion_row(ratio: float, temperature: float) -> dict:
    """shell_criterion of the cell's material, over the free length and over the station."""
    from ecx_device.physics.ion_transport import shell_criterion
    from ecx_device.units import MESH_UNIT

    material = cell_material(ratio, SUPPLY_FRACTIONS[0])  # the criterion does not use it
    free = shell_criterion(material, temperature, FREE_LENGTH_NM * MESH_UNIT,
                           RADIUS_NM * MESH_UNIT)
    station = shell_criterion(material, temperature, STATION_NM * MESH_UNIT,
                              RADIUS_NM * MESH_UNIT)
    d_bulk = (RADIUS_NM * MESH_UNIT) ** 2 / free.radial_time
    return {"D_bulk [m^2/s]": d_bulk, "t_axial_free [s]": free.axial_time,
            "t_axial_station [s]": station.axial_time, "t_radial [s]": free.radial_time,
            "criterion_ratio_free [-]": free.ratio,
            "criterion_ratio_station [-]": station.ratio}


def sweep() -> list[dict]:
    """Every cell of SUPPLY_FRACTIONS x TEMPERATURES_K x RATIOS, with its wall time (printed
    as it goes)."""
    from ecx_device.outputs.regime import classify_profile

    domain = wire_domain()
    rows = []
    cells = [(s, t, a) for s in SUPPLY_FRACTIONS for t in TEMPERATURES_K for a in RATIOS]
    for supply, temperature, ratio in cells:
        start = time.perf_counter()
        r, x, steps = run_cell(domain, ratio, temperature, supply)
        label, thickness = classify_profile(r, x)
        row = {"c_supply [-]": supply, "a_par [-]": ratio, "T [K]": temperature,
               "label": label, "shell_thickness [nm]": thickness, "X_axis [-]": float(x[0]),
               "X_surface [-]": float(x[-1]), **criterion_row(ratio, temperature),
               "steps": steps, "wall [s]": time.perf_counter() - start}
        rows.append(row)
        print(f"c_s {supply:g}  a_par {ratio:8.3g}  T {temperature:5.0f} K  {label:7s}  "
              f"thickness "
              f"{thickness:5.2f} nm  X axis {x[0]:.3f} surface {x[-1]:.3f}  t_ax/t_rad "
              f"{row['criterion_ratio_free [-]']:.3g}  {steps} steps  "
              f"{row['wall [s]']:.1f} s", flush=True)
    return rows


def write_csv(rows: list[dict], path: Path, stamp: str) -> None:
    """The table, with a comment line naming the date and the externally set parameters."""
    with path.open("w", newline="") as fh:
        fh.write(f"# regime map, {stamp}; duration {DURATION_S} s, station {STATION_NM} nm, wire "
                 f"R {RADIUS_NM} nm, free length {FREE_LENGTH_NM} nm, layer {LAYER_NM} nm; set "
                 f"externally: T, supply c_s per site, kick-out "
                 f"{KICK_RATE_PER_S} 1/s, no Cd blocking, no field\n")
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v)
                             for k, v in row.items()})


def read_csv(path: Path) -> tuple[list[dict], str]:
    """Rows and the date stamp of a CSV written by :func:`write_csv`."""
    lines = path.read_text().splitlines()
    stamp = lines[0].removeprefix("# regime map, ").split(";")[0]
    rows = list(csv.DictReader(lines[1:]))
    for row in rows:
        for k in COLUMNS:
            if k not in ("label", "steps"):
                row[k] = float(row[k])
    return rows, stamp


def draw(rows: list[dict], path: Path, stamp: str) -> None:
    """One panel per Cu supply: the labels on the (T, a_par) grid, with the criterion's boundary
    t_axial = t_radial, i.e. a_par = (L / R)^2, for L = the free length and L = the station."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    supplies = sorted({r["c_supply [-]"] for r in rows})
    fig, axes = plt.subplots(1, len(supplies), figsize=(5.2 * len(supplies), 4.8), sharey=True,
                             squeeze=False)
    for ax, supply in zip(axes[0], supplies):
        panel(ax, [r for r in rows if r["c_supply [-]"] == supply])
        ax.set_title(f"Cu source c_s = {supply:g} per S site: regime at z = {STATION_NM:g} nm "
                     f"after {DURATION_S:g} s", fontsize=8)
    axes[0][0].set_ylabel("sub-surface / bulk Cu diffusivity along the axis, a_par [-]")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", bbox_to_anchor=(0.5, 0.03), ncol=5,
               fontsize=7, markerscale=0.5)
    fig.text(0.01, 0.005, f"make_regime_map.py, {stamp}; R = {RADIUS_NM:g} nm, free length "
             f"{FREE_LENGTH_NM:g} nm, layer {LAYER_NM:g} nm; numbers: shell thickness [nm]",
             fontsize=6)
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    fig.savefig(path, dpi=150)
    plt.close(fig)


def panel(ax, rows: list[dict]) -> None:
    """The cells of one supply and the two criterion lines on ``ax``."""
    style = {"nothing": ("lightgrey", "o"), "shell": ("tab:orange", "s"),
             "plug": ("tab:blue", "D")}
    for label, (color, marker) in style.items():
        pts = [(r["T [K]"], r["a_par [-]"]) for r in rows if r["label"] == label]
        if pts:
            t, a = zip(*pts)
        else:  # keep the legend complete
            t, a = [], []
        ax.scatter(t, a, s=230, c=color, marker=marker, edgecolors="k", label=label, zorder=3)
    for r in rows:
        if r["label"] != "nothing":
            ax.annotate(f"{r['shell_thickness [nm]']:.1f}", (r["T [K]"], r["a_par [-]"]),
                        ha="center", va="center", fontsize=6, zorder=4)
    temps = [r["T [K]"] for r in rows]
    span = (min(temps) - 15, max(temps) + 15)
    for length, ls in ((FREE_LENGTH_NM, "-"), (STATION_NM, "--")):
        ax.plot(span, [(length / RADIUS_NM) ** 2] * 2, "k", ls=ls, lw=1,
                label=f"t_axial = t_radial, L = {length:g} nm")
    ax.set_yscale("log")
    ax.set_xlim(*span)
    ax.set_ylim(0.3, 3e4)
    ax.set_xlabel("wire temperature T [K] (set externally)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="source", type=Path, help="redraw from this CSV")
    args = parser.parse_args()
    if args.source:
        rows, stamp = read_csv(args.source)
    else:
        start = time.perf_counter()
        rows = sweep()
        stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
        print(f"total {time.perf_counter() - start:.0f} s")
        write_csv(rows, OUT / "regime_map.csv", stamp)
    draw(rows, OUT / "regime_map.png", stamp)
    counts = {k: sum(r["label"] == k for r in rows) for k in ("shell", "plug", "nothing")}
    print(f"wrote {OUT / 'regime_map.png'}: {counts}")


if __name__ == "__main__":
    main()
