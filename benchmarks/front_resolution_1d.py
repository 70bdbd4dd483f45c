"""The CdS/Cu2S front of the stage cases in 1D: current against cell size, fitted and Galerkin
carrier fluxes (not a test; docs/validation.md, "Mesh convergence of the stage (b), (c) sweeps").

Usage: .venv/bin/python benchmarks/front_resolution_1d.py

200 nm wire, p-Cu2S for x < 100 nm and n-CdS beyond, joined by the stages' 1 nm tanh front
X = (1 - tanh((x - 100 nm)/1 nm))/2 sampled at the nodes (P1 interpolation, as the device does),
database data at 300 K (Boltzmann), ohmic contacts, Cu2S end biased to +0.8 V from equilibrium in
0.1 V steps. Prints the grounded-end current for cells of 4 ... 0.125 nm with both schemes.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))
from conftest import box_domain  # noqa: E402

from ecx_device.device.names import Facet  # noqa: E402
from ecx_device.fem import dolfinx  # noqa: E402
from ecx_device.materials import load_material  # noqa: E402
from ecx_device.physics.base import Context  # noqa: E402
from ecx_device.physics.carriers import DriftDiffusion  # noqa: E402
from ecx_device.physics.carriers_fitted import FittedDriftDiffusion  # noqa: E402
from ecx_device.physics.contacts import OhmicContact  # noqa: E402
from ecx_device.physics.poisson import Poisson  # noqa: E402
from ecx_device.physics.semiconductor_scaling import Heterostructure  # noqa: E402
from ecx_device.physics.wire_semiconductor import semiconductor_parameters  # noqa: E402
from ecx_device.solvers.continuation import continue_bias  # noqa: E402
from ecx_device.solvers.newton import CoupledProblem  # noqa: E402

LENGTH, FRONT, WIDTH, BIAS = 200.0, 100.0, 1.0, 0.8  # nm, nm, nm, V


def current(fitted: bool, h: float) -> float:
    """Grounded-end current (A) at BIAS on cells of h nm."""
    cds = semiconductor_parameters(load_material("CdS_nanowire"), 300.0)
    cu2s = semiconductor_parameters(load_material("Cu2S"), 300.0)
    d = box_domain(int(round(LENGTH / h)), "1d", LENGTH)
    X = dolfinx.fem.Function(dolfinx.fem.functionspace(d.mesh, ("Lagrange", 1)))
    X.interpolate(lambda x: 0.5 * (1 - np.tanh((x[0] - FRONT) / WIDTH)))
    par = dataclasses.replace(cds, heterostructure=Heterostructure(cu2s, X))
    carriers = FittedDriftDiffusion(par) if fitted else DriftDiffusion(par)
    modules = [Poisson(par, lumped=fitted), carriers, OhmicContact(par, Facet.CU_SINK),
               OhmicContact(par, Facet.W_SINK)]
    prob = CoupledProblem(Context.create(d, {}), modules, degree=1,
                          petsc_options={"snes_rtol": 0.0})
    if not prob.solve().converged:
        return float("nan")
    continue_bias(prob, BIAS, max_step=0.1, min_step=1e-3)
    return prob.quantities()["cathode_current [A]"]


def main() -> None:
    sizes = (4, 2, 1, 0.5, 0.25, 0.125)
    print("cell size [nm]: " + " ".join(f"{h:>10}" for h in sizes))
    for fitted in (True, False):
        values = [current(fitted, h) for h in sizes]
        label = "fitted" if fitted else "Galerkin"
        print(f"{label:>14}: " + " ".join(f"{v:10.4e}" for v in values))


if __name__ == "__main__":
    main()
