"""``ecx-device check``: validate a case file without meshing or solving it."""

from __future__ import annotations

from pathlib import Path

from ecx_device.case import load_case
from ecx_device.device.from_case import (anode_equilibrium_voltage, case_anode_metal,
                                         device_geometry, exchange_free_energy,
                                         region_materials)
from ecx_device.units import ELEMENTARY_CHARGE


def check_case(path: Path, smoke: bool = False) -> list[str]:
    """Validate the case at ``path`` (schema, materials, geometry, anode metal); the lines to
    print.

    Raises:
        CaseError: the first problem found, in one line.
    """
    case = load_case(path)
    region_materials(case)  # unknown materials / bad overrides fail here
    cells = device_geometry(case, case.smoke.mesh_scale if smoke else 1.0).estimated_cells()
    source = f"mesh file {case.geometry.mesh_file}" if case.geometry.mesh_file else "gmsh"
    points = case.bias.protocol.bias_points(case.bias.sign)
    lines = [f"geometry: buildable ({source}), roughly {cells:.2g} cells before contact "
             "refinement",
             f"{path}: valid case {case.name!r} ({case.geometry.dimension}), {len(points)} bias "
             f"points from {points[0].voltage:+g} V to {points[-1].voltage:+g} V"]
    if case.exchange.enabled:
        lines.append(_exchange_line(case))
    return lines


def _exchange_line(case) -> str:
    """What drives the exchange (an unknown anode metal fails here)."""
    metal = case_anode_metal(case)
    spec = case.exchange
    if metal is None:
        source = {"surface": "Cu from the free surface",
                  "donors": "front kinetics, guest from the donor contacts",
                  "bath": "front kinetics, guest from the bath"}.get(spec.cu_source,
                                                                     "no Cu source")
    else:
        e_eq = anode_equilibrium_voltage(case, metal)
        anode = ("metal <=> interstitial at c = c_s" if e_eq is None
                 else f"E_eq = {e_eq:+.3f} V")
        source = (f"anode {metal.name} ({anode}, "
                  f"exchange.anode_equilibrium = {spec.anode_equilibrium})")
    if spec.kinetics == "bulk":
        dg = exchange_free_energy(case) / (2 * ELEMENTARY_CHARGE)
        source += f"; reversible exchange, Delta G_r / 2e = {dg:+.3f} V"
    return f"exchange dynamics over {case.bias.protocol.end_time:g} s; {source}"
