"""Shared test fixtures: small DOLFINx domains with the device's region and facet names."""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

from ecx_device.device.names import Facet, Region
from ecx_device.fem import MPI, dolfinx
from ecx_device.materials import Material
from ecx_device.materials.properties import Constant, PropertyModel
from ecx_device.mesh import Domain

# The tests (and the CLI runs they start, which inherit the environment) use their own mesh cache,
# never the user's ~/.cache, and leave nothing behind.
_MESH_CACHE = tempfile.mkdtemp(prefix="ecx-test-meshes-")
os.environ["ECX_MESH_CACHE"] = _MESH_CACHE
atexit.register(shutil.rmtree, _MESH_CACHE, ignore_errors=True)


def box_domain(n: int, dimension: str, size_nm: float = 100.0) -> Domain:
    """A square (2D cartesian or axisymmetric r-z) or interval (1D, or spherical: r in
    [0, size]) filled with the ``wire``
    region; the bottom boundary (z = 0) is ``cu_sink``, every other outer boundary ``w_sink``
    (in axisymmetric form the r = 0 side is left untagged: it is the symmetry axis)."""
    comm = MPI.COMM_WORLD
    if dimension in ("1d", "spherical"):
        mesh = dolfinx.mesh.create_interval(comm, n, [0.0, size_nm])
    else:
        mesh = dolfinx.mesh.create_rectangle(comm, [[0.0, 0.0], [size_nm, size_nm]], [n, n])
    tdim = mesh.topology.dim
    mesh.topology.create_connectivity(tdim - 1, tdim)
    ax = mesh.geometry.dim - 1
    bottom = dolfinx.mesh.locate_entities_boundary(mesh, tdim - 1,
                                                   lambda x: np.isclose(x[ax], 0.0))
    L = size_nm

    def other(x):
        # A facet belongs to a side when all its vertices lie on it, so name the sides explicitly.
        top_or_outer = np.isclose(x[ax], L) | np.isclose(x[0], L)
        if dimension in ("axisymmetric", "1d", "spherical"):
            return top_or_outer
        return top_or_outer | np.isclose(x[0], 0.0)

    rest = dolfinx.mesh.locate_entities_boundary(mesh, tdim - 1, other)
    facets = np.concatenate([bottom, rest]).astype(np.int32)
    values = np.concatenate([np.full(len(bottom), 1), np.full(len(rest), 2)]).astype(np.int32)
    order = np.argsort(facets)
    ftags = dolfinx.mesh.meshtags(mesh, tdim - 1, facets[order], values[order])
    ncell = mesh.topology.index_map(tdim).size_local + mesh.topology.index_map(tdim).num_ghosts
    ctags = dolfinx.mesh.meshtags(mesh, tdim, np.arange(ncell, dtype=np.int32),
                                  np.ones(ncell, dtype=np.int32))
    return Domain(mesh, ctags, ftags, {Region.WIRE: 1}, {Facet.CU_SINK: 1, Facet.W_SINK: 2},
                  dimension, wire_diameter=40e-9)


def constant_material(**props: float) -> Material:
    """A material with constant properties given in SI units."""
    units = {"electrical_conductivity": "S/m", "thermal_conductivity": "W/(m K)"}
    models: dict[str, PropertyModel] = {k: Constant(unit=units[k], source=("test",), value=v)
                                        for k, v in props.items()}
    return Material("test", "constant-property test material", models)


def fit_rate(h: list[float], err: list[float]) -> float:
    """Least-squares slope of log(err) against log(h)."""
    return float(np.polyfit(np.log(h), np.log(err), 1)[0])


@pytest.fixture
def tmp_out(tmp_path):
    """A temporary output folder."""
    return tmp_path / "out"


@pytest.fixture(scope="session")
def default_smoke_run(tmp_path_factory) -> Path:
    """Output folder of ``ecx-device run cases/zhang2017_1V.yaml --smoke`` (the CLI, as a user
    runs it, output not a terminal), shared by the tests of run outputs (strict files, report,
    registry, progress). What it printed is in ``../stdout.txt`` beside the folder."""
    case = Path(__file__).parents[1] / "cases" / "zhang2017_1V.yaml"
    out = tmp_path_factory.mktemp("default_smoke") / "run"
    proc = subprocess.run([sys.executable, "-m", "ecx_device", "run", str(case), "--smoke",
                           "--out", str(out)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    (out.parent / "stdout.txt").write_text(proc.stdout)
    return out


@pytest.fixture(scope="session")
def ohmic_run(tmp_path_factory):
    """``ecx.run`` of the 1D ohmic case (zhang2017_1d, --smoke: 2 bias points, seconds) in this
    process: the API's Result, with the rows as the run produced them."""
    import ecx_device as ecx

    case = Path(__file__).parents[1] / "cases" / "zhang2017_1d.yaml"
    return ecx.run(case, out=tmp_path_factory.mktemp("api") / "ohmic", smoke=True, log=None)


@pytest.fixture(scope="session")
def ohmic_iv(tmp_path_factory):
    """``ecx.run_iv`` of the same case (--smoke: 6 biases from -1 V to 1 V)."""
    import ecx_device as ecx

    case = Path(__file__).parents[1] / "cases" / "zhang2017_1d.yaml"
    return ecx.run_iv(case, out=tmp_path_factory.mktemp("api") / "iv", smoke=True, log=None)
