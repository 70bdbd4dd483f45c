"""Domain.restrict: the wire alone, with the device's interfaces as its named outer facets."""

from __future__ import annotations

import math

import pytest

from ecx_device.device.names import Facet, Region

from ecx_device.device.geometry import DeviceGeometry
from ecx_device.fem import dolfinx
from ecx_device.mesh import Domain
from ecx_device.physics.base import integrate


@pytest.mark.parametrize("dimension", ["axisymmetric", "3d"])
def test_restricted_wire_keeps_volume_and_interfaces(dimension):
    sizes = {"axisymmetric": (4.0, 2.0, 40.0), "3d": (8.0, 4.0, 60.0)}[dimension]
    geom = DeviceGeometry(dimension=dimension, wire_mesh_size=sizes[0],
                              contact_mesh_size=sizes[1], metal_mesh_size=sizes[2])
    device = Domain.from_geometry(geom)
    wire, cells = device.restrict(Region.WIRE)
    comm = wire.mesh.comm
    one = dolfinx.fem.Constant(wire.mesh, 1.0)
    nm3, nm2 = 1e-27, 1e-18
    # 3D meshes facet the cylinder (the wire volume is ~1.5% low at these sizes)
    tol = 1e-9 if dimension == "axisymmetric" else 0.03
    assert integrate(wire.volume(one), comm) == pytest.approx(geom.wire_volume * nm3, rel=tol)
    assert integrate(device.volume(dolfinx.fem.Constant(device.mesh, 1.0), Region.WIRE),
                     comm) == pytest.approx(integrate(wire.volume(one), comm), rel=1e-12)
    assert integrate(wire.surface(one, Facet.CU_WIRE), comm) == pytest.approx(
        geom.cu_wire_area * nm2, rel=tol)
    assert integrate(wire.surface(one, Facet.W_WIRE), comm) == pytest.approx(
        geom.w_wire_area * nm2, rel=max(tol, 0.02))
    # free surface: the side from the Cu surface to the wire's end, and the ring of the end face
    # outside the W contact (the apex touches a disk narrower than the wire here)
    r, rc = geom.wire_radius, geom.w_contact_radius
    assert rc < r
    free = (2 * math.pi * r * geom.wire_free_length + math.pi * (r**2 - rc**2)) * nm2
    assert integrate(wire.surface(one, Facet.WIRE_SURFACE), comm) == pytest.approx(
        free, rel=max(tol, 0.02))
    assert Facet.CU_SINK not in wire.facets and set(wire.cells) == {Region.WIRE}
    n_sub = wire.mesh.topology.index_map(wire.mesh.topology.dim).size_local
    assert n_sub == len(device.region_cells(Region.WIRE))
    # each submesh cell is the parent cell it claims to be: same midpoint
    mids = [dolfinx.mesh.compute_midpoints(m.mesh, m.mesh.topology.dim, c)
            for m, c in ((wire, cells.sub), (device, cells.parent))]
    assert len(cells.sub) == len(cells.parent) >= n_sub
    assert abs(mids[0] - mids[1]).max() < 1e-9
    assert set(cells.parent[:n_sub]) <= set(device.region_cells(Region.WIRE))
    # and a field moved there and back is unchanged
    V_wire = dolfinx.fem.functionspace(wire.mesh, ("Lagrange", 1))
    V_dev = dolfinx.fem.functionspace(device.mesh, ("Lagrange", 1))
    f_dev, f_wire, back = (dolfinx.fem.Function(V_dev), dolfinx.fem.Function(V_wire),
                           dolfinx.fem.Function(V_dev))
    f_dev.interpolate(lambda x: 1.0 + x[0] + 2.0 * x[1])
    cells.to_sub(f_dev, f_wire)
    cells.to_parent(f_wire, back)
    wire_dofs = dolfinx.fem.locate_dofs_topological(V_dev, device.mesh.topology.dim,
                                                    device.region_cells(Region.WIRE))
    assert abs(back.x.array[wire_dofs] - f_dev.x.array[wire_dofs]).max() < 1e-12
