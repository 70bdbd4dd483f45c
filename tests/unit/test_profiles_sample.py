"""outputs/profiles.sample: point values of a field, with the mesh's bounding-box tree built once
per mesh (the build was nearly all of a call)."""

from __future__ import annotations

import numpy as np
import pytest

from ecx_device.fem import MPI, dolfinx
from ecx_device.outputs import profiles


def test_sample_is_exact_for_p1_data_and_builds_the_tree_once(monkeypatch):
    built = []
    build = dolfinx.geometry.bb_tree
    monkeypatch.setattr(dolfinx.geometry, "bb_tree", lambda *a: built.append(1) or build(*a))
    mesh = dolfinx.mesh.create_unit_cube(MPI.COMM_WORLD, 4, 3, 5)
    f = dolfinx.fem.Function(dolfinx.fem.functionspace(mesh, ("Lagrange", 1)))
    f.interpolate(lambda x: 1 + 2 * x[0] - x[1] + 3 * x[2])
    pts = np.array([[0.1, 0.2, 0.3], [0.9, 0.5, 0.05], [0.5, 0.5, 0.99], [1.5, 0.5, 0.5]])
    exact = 1 + 2 * pts[:, 0] - pts[:, 1] + 3 * pts[:, 2]
    for _ in range(3):
        values = profiles.sample(f, pts)
        assert values[:3] == pytest.approx(exact[:3], rel=1e-12)
        assert np.isnan(values[3])  # outside the mesh
    assert len(built) == 1
    other = dolfinx.mesh.create_unit_cube(MPI.COMM_WORLD, 2, 2, 2)
    g = dolfinx.fem.Function(dolfinx.fem.functionspace(other, ("Lagrange", 1)))
    g.x.array[:] = 2.0
    assert profiles.sample(g, pts[:1])[0] == pytest.approx(2.0)
    assert len(built) == 2  # a new mesh has its own tree
