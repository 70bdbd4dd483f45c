"""Side contact (a wire lying across the edge of a Cu block, W tip on its free end) in 3D,
against a lumped 1D thermal network (docs/model.md 3.1b, issue 12).

Pure heat with a uniform electron-beam source Q in the wire, constant conductivities, no
radiation, a finite thermal boundary conductance G at both metal|wire interfaces. The network,
solved here by finite differences on 4000 nodes (independent of the FE code), is the wire as a
1D conductor k A along z in [-l, L] with the source Q A per length, and:

- on the contact strip z in [-l, 0]: a conductance per length to T0 through the interface,
  G w (w = 2 a theta, the strip's arc width), in series with the spreading resistances per
  length of a strip of width b = 2 a sin(theta) into the Cu slab of thickness H,
  ln(4 H / (pi b)) / (pi k_Cu), and inside the wire from depth a, ln(4 a / (pi b)) / (pi k)
  (the 2D strip-on-half-plane estimate, log of depth over strip width);
- at the foot z = -l: the end face's segment inside the Cu, 1/(G A_seg);
- at the free end z = L: the W contact disk (radius r_c), 1/(G pi r_c^2), plus the W's spreading
  resistance 1/(4 k_W r_c), the conduction of the cone to its far face, and the wire's
  constriction onto the disk, (1 - r_c/a)^1.5 / (4 k r_c) (Cooper, Mikic & Yovanovich 1969).

The spreading terms are estimates (together ~2 % of the peak rise here); with the mesh's polygonal
circles they are why the tolerance is 5 %. The peak wire temperature must match within 5 %; the
same network with perfect contacts (no 1/G terms) misses it by far more, so the test sees the
conductance.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from conftest import constant_material
from ecx_device.device.geometry import DeviceGeometry
from ecx_device.device.names import Region
from ecx_device.fem import dolfinx
from ecx_device.mesh import Domain
from ecx_device.physics.base import Context
from ecx_device.physics.heat import BeamHeating, HeatConduction
from ecx_device.solvers.newton import CoupledProblem
from ecx_device.units import MESH_UNIT

K_WIRE, K_CU, K_W, T0 = 4.0, 400.0, 170.0, 300.0  # W/(m K), K
G = 1e8  # W/(m^2 K)
Q = 2e16  # W/m^3
GEOM = DeviceGeometry(dimension="3d", cu_contact="side", w_contact="end", cu_side_depth=2.0,
                      wire_mesh_size=8.0, contact_mesh_size=4.0, metal_mesh_size=60.0,
                      contact_layer_thickness=0.5)


def network_peak(geom: DeviceGeometry, g: float | None, n: int = 4000) -> float:
    """Peak temperature (K) of the lumped 1D network (module docstring); g None: perfect."""
    s = MESH_UNIT
    a, l, L = geom.wire_radius * s, geom.cu_contact_length * s, geom.wire_free_length * s
    area = math.pi * a**2
    theta = geom.cu_side_half_angle
    width = 2 * a * math.sin(theta)
    spread_cu = math.log(4 * geom.cu_thickness * s / (math.pi * width)) / (math.pi * K_CU)
    spread_wire = math.log(4 * a / (math.pi * width)) / (math.pi * K_WIRE)
    per_length = 1 / ((1 / (g * 2 * a * theta) if g else 0.0) + spread_cu + spread_wire)
    r_c = geom.w_contact_radius * s
    tan = math.tan(math.radians(geom.w_cone_half_angle))
    cone = (1 / r_c - 1 / (geom.w_far_radius * s)) / (math.pi * K_W * tan)
    # the wire's constriction onto the smaller disk: 1/(4 k r_c) (1 - r_c/a)^1.5
    constriction = (1 - r_c / a) ** 1.5 / (4 * K_WIRE * r_c)
    r_w = (1 / (g * math.pi * r_c**2) if g else 0.0) + 1 / (4 * K_W * r_c) + cone + constriction
    r_foot = 1 / (g * geom.cu_side_segment_area * s**2) if g else 0.0
    z = np.linspace(-l, L, n + 1)
    h = z[1] - z[0]
    kA = K_WIRE * area
    # finite volumes on the nodes: conduction between neighbours, the strip's conductance and
    # the source per node length, the end resistances on the end nodes' half cells
    main = np.zeros(n + 1)
    rhs = np.full(n + 1, Q * area * h)
    rhs[[0, -1]] *= 0.5
    lengths = np.full(n + 1, h)
    lengths[[0, -1]] *= 0.5
    on_strip = z <= 1e-15
    main += np.where(on_strip, per_length * lengths, 0.0)
    main[:-1] += kA / h
    main[1:] += kA / h
    main[0] += 1 / r_foot if g else 0.0
    main[-1] += 1 / r_w
    matrix = np.diag(main) - np.diag(np.full(n, kA / h), 1) - np.diag(np.full(n, kA / h), -1)
    return T0 + float(np.max(np.linalg.solve(matrix, rhs)))


def fe_peak(geom: DeviceGeometry) -> tuple[float, float]:
    """Peak wire temperature (K) and beam power (W) of the 3D FE heat problem."""
    domain = Domain.from_geometry(geom)
    materials = {Region.WIRE: constant_material(thermal_conductivity=K_WIRE),
                 Region.CU: constant_material(thermal_conductivity=K_CU),
                 Region.W: constant_material(thermal_conductivity=K_W)}
    ctx = Context.create(domain, materials, heat_sink_temperature=T0, emissivity=0.0)
    for key in ("cu_wire_boundary_conductance", "w_wire_boundary_conductance"):
        ctx.constants[key] = dolfinx.fem.Constant(domain.mesh, G)
    problem = CoupledProblem(ctx, [HeatConduction(), BeamHeating(Q)], degree=2)
    assert problem.solve().converged
    q = problem.quantities()
    return q["wire_T_max [K]"], q["beam_heating_power [W]"]


def test_side_contact_peak_matches_the_lumped_network():
    peak, power = fe_peak(GEOM)
    volume = GEOM.wire_volume * MESH_UNIT**3
    assert power == pytest.approx(Q * volume, rel=0.03)  # polygonal circles
    expected = network_peak(GEOM, G)
    perfect = network_peak(GEOM, None)
    print(f"FE {peak:.2f} K, network {expected:.2f} K, perfect-contact network {perfect:.2f} K,"
          f" P = {power:.3e} W, R = {(expected - T0) / power:.3e} K/W")
    assert (peak - T0) == pytest.approx(expected - T0, rel=0.05)
    assert abs((perfect - T0) / (expected - T0) - 1) > 0.2  # the contacts matter here
