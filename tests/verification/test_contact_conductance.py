"""Thermal boundary conductance at the metal|wire interfaces against exact 1D solutions
(docs/model.md 3.1b).

A planar column: Cu metal [-M_l, 0], wire [0, L] heated uniformly (W/m^3, the electron-beam
source), W metal [L, L + M_r], both far ends at T0. With q_l, q_r the heat leaving the wire to
the left and right, the exact solution is piecewise: linear in the metals, a parabola in the
wire, and a jump T_wire - T_metal = q / G at each interface. With R_x = M_x / k_m + 1 / G_x,

    T_wire(x) = T0 + k B R_l + B x - Q x^2 / (2 k),   q_l = k B,   q_r = Q L - k B,
    B = (Q L R_r + Q L^2 / (2 k)) / (L + k R_l + k R_r).

The mesh carries the jump in a contact layer of thickness t (the metal's last cell at each
interface, device/names.LAYERS), read through the mesh cache like a gmsh mesh. The metal node at
the layer's far side must carry the exact *metal* temperature and the interface node the exact
*wire* temperature: their difference is the jump plus the metal's own drop over t.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import box_domain, constant_material, fit_rate
from ecx_device.device.names import FACET_TAGS, LAYER_TAGS, REGION_TAGS, Facet, Region
from ecx_device.fem import MPI, dolfinx, ufl
from ecx_device.mesh import Domain
from ecx_device.physics.base import Context, integrate
from ecx_device.physics.heat import BeamHeating, HeatConduction
from ecx_device.solvers.newton import CoupledProblem
from ecx_device.units import MESH_UNIT

L, M_L, M_R, T_LAYER = 300.0, 100.0, 60.0, 0.5  # nm
K_WIRE, K_METAL, T0 = 4.0, 50.0, 300.0  # W/(m K), K
G_L, G_R = 1e8, 3e8  # W/(m^2 K)
Q = 2e16  # W/m^3


def exact(g_l: float | None, g_r: float | None, metals: bool = True):
    """(B, q_l, q_r) of the exact solution (SI); G None means a perfect contact."""
    s = MESH_UNIT
    m_l, m_r = (M_L * s, M_R * s) if metals else (0.0, 0.0)
    r_l = m_l / K_METAL + (1 / g_l if g_l else 0.0)
    r_r = m_r / K_METAL + (1 / g_r if g_r else 0.0)
    length, k = L * s, K_WIRE
    b = (Q * length * r_r + Q * length**2 / (2 * k)) / (length + k * r_l + k * r_r)
    return b, k * b, Q * length - k * b, r_l


def wire_exact(x_si, g_l, g_r, metals=True):
    """Exact wire temperature (K) at x (m; UFL or NumPy)."""
    b, _, _, r_l = exact(g_l, g_r, metals)
    return T0 + K_WIRE * b * r_l + b * x_si - Q * x_si**2 / (2 * K_WIRE)


def column_domain(tmp_path, n: int) -> Domain:
    """The metal | layer | wire | layer | metal column, n cells in the wire, through the mesh
    cache's reader (so the layers are folded into their metals as for a gmsh mesh)."""
    h = L / n
    nodes = np.concatenate([np.linspace(-M_L, -T_LAYER, max(int(M_L / h), 2) + 1), [0.0],
                            np.linspace(0.0, L, n + 1)[1:], [L + T_LAYER],
                            np.linspace(L + T_LAYER, L + M_R, max(int(M_R / h), 2) + 1)[1:]])
    cells = np.stack([np.arange(len(nodes) - 1), np.arange(1, len(nodes))], axis=1)
    mid = 0.5 * (nodes[:-1] + nodes[1:])
    values = np.select([mid < -T_LAYER, mid < 0, mid < L, mid < L + T_LAYER],
                       [REGION_TAGS[Region.CU], LAYER_TAGS["cu_wire_layer"],
                        REGION_TAGS[Region.WIRE], LAYER_TAGS["w_wire_layer"]],
                       REGION_TAGS[Region.W])
    folder = tmp_path / f"column_{n}"
    folder.mkdir()
    arrays = {"x": np.stack([nodes, 0 * nodes, 0 * nodes], axis=1),
              "cells": cells.astype(np.int64), "cell_values": values.astype(np.int32),
              "facets": np.array([[0], [len(nodes) - 1]], dtype=np.int64),
              "facet_values": np.array([FACET_TAGS[Facet.CU_SINK], FACET_TAGS[Facet.W_SINK]],
                                       dtype=np.int32)}
    for key, value in arrays.items():
        np.save(folder / f"{key}.npy", value)
    groups = {**{str(r): [1, t] for r, t in REGION_TAGS.items()},
              **{name: [1, t] for name, t in LAYER_TAGS.items()},
              Facet.CU_SINK.value: [0, FACET_TAGS[Facet.CU_SINK]],
              Facet.W_SINK.value: [0, FACET_TAGS[Facet.W_SINK]]}
    (folder / "groups.json").write_text(json.dumps(groups))
    domain = Domain._from_cache(lambda: (folder, True), "1d", 40e-9, MPI.COMM_WORLD)
    domain.layer_thickness = T_LAYER * MESH_UNIT
    return domain


def solve(domain: Domain, g_l, g_r, degree: int):
    """Heat with the beam source in the wire and the given conductances (None: perfect)."""
    metal = constant_material(thermal_conductivity=K_METAL)
    materials = {Region.WIRE: constant_material(thermal_conductivity=K_WIRE)}
    if domain.has_region(Region.CU):
        materials.update({Region.CU: metal, Region.W: metal})
    ctx = Context.create(domain, materials, heat_sink_temperature=T0)
    for key, g in (("cu_wire_boundary_conductance", g_l), ("w_wire_boundary_conductance", g_r)):
        if g is not None:
            ctx.constants[key] = dolfinx.fem.Constant(domain.mesh, float(g))
    problem = CoupledProblem(ctx, [HeatConduction(), BeamHeating(Q)], degree=degree)
    assert problem.solve().converged
    return ctx.fields["T"], problem.quantities()


def value_at(T, x_nm: float) -> float:
    """The temperature at the mesh node x (nm)."""
    coords = T.function_space.tabulate_dof_coordinates()[:, 0]
    i = np.argmin(np.abs(coords - x_nm))
    assert abs(coords[i] - x_nm) < 1e-9
    return float(T.x.array[i])


def wire_error(domain: Domain, T, g_l, g_r) -> float:
    """Relative L2 error of T in the wire against the exact parabola."""
    x = ufl.SpatialCoordinate(domain.mesh)[0] * MESH_UNIT
    err = integrate(domain.volume((T - wire_exact(x, g_l, g_r)) ** 2, Region.WIRE),
                    domain.mesh.comm)
    ref = integrate(domain.volume((wire_exact(x, g_l, g_r) - T0) ** 2, Region.WIRE),
                    domain.mesh.comm)
    return (err / ref) ** 0.5


def test_jump_at_each_interface_is_q_over_g(tmp_path):
    domain = column_domain(tmp_path, 12)
    T, q = solve(domain, G_L, G_R, degree=2)
    _, q_l, q_r, _ = exact(G_L, G_R)
    s = MESH_UNIT
    jump_l, jump_r = q_l / G_L, q_r / G_R
    assert jump_l > 10 and jump_r > 5  # K: the jumps are large enough to see
    # wire side of each interface: the exact wire temperature (which includes the jump) ...
    assert value_at(T, 0.0) == pytest.approx(wire_exact(0.0, G_L, G_R), abs=1e-8)
    assert value_at(T, L) == pytest.approx(wire_exact(L * s, G_L, G_R), abs=1e-8)
    # ... metal side (far face of the layer): the exact metal temperature, no jump
    assert value_at(T, -T_LAYER) == pytest.approx(T0 + q_l * (M_L - T_LAYER) * s / K_METAL,
                                                  abs=1e-8)
    assert value_at(T, L + T_LAYER) == pytest.approx(T0 + q_r * (M_R - T_LAYER) * s / K_METAL,
                                                     abs=1e-8)
    # hence across the layer: the jump plus the metal's own drop over t
    across = value_at(T, 0.0) - value_at(T, -T_LAYER)
    assert across == pytest.approx(jump_l + q_l * T_LAYER * s / K_METAL, rel=1e-9)
    peak = max(wire_exact(x * s, G_L, G_R) for x in np.linspace(0, L, 3001))
    assert q["wire_T_max [K]"] == pytest.approx(peak, abs=1e-3)
    assert q["beam_heating_power [W]"] == pytest.approx(Q * L * s * domain.wire_area, rel=1e-12)


def test_p1_converges_at_rate_two_with_the_jump(tmp_path):
    ns = [6, 12, 24]
    errors = [wire_error(d, solve(d, G_L, G_R, 1)[0], G_L, G_R)
              for d in (column_domain(tmp_path, n) for n in ns)]
    assert abs(fit_rate([1 / n for n in ns], errors) - 2.0) < 0.1


def test_large_conductance_recovers_the_continuous_temperature(tmp_path):
    domain = column_domain(tmp_path, 12)
    perfect, _ = solve(domain, None, None, degree=2)
    nearly, _ = solve(domain, 1e16, 1e16, degree=2)
    finite, _ = solve(domain, G_L, G_R, degree=2)
    assert value_at(perfect, 0.0) == pytest.approx(wire_exact(0.0, None, None), abs=1e-8)
    assert np.max(np.abs(nearly.x.array - perfect.x.array)) < 1e-4  # K; q/G ~ 3e-7 K
    assert np.max(np.abs(finite.x.array - perfect.x.array)) > 10.0


def test_lumped_1d_wire_gets_a_robin_contact():
    """The 1D device (metals lumped into its end points): -k dT/dn = G (T - T0) there."""
    domain = box_domain(12, "1d", L)
    T, _ = solve(domain, G_L, G_R, degree=2)
    assert value_at(T, 0.0) == pytest.approx(wire_exact(0.0, G_L, G_R, metals=False), abs=1e-8)
    assert value_at(T, L) == pytest.approx(wire_exact(L * MESH_UNIT, G_L, G_R, metals=False),
                                           abs=1e-8)
    assert value_at(T, 0.0) - T0 == pytest.approx(exact(G_L, G_R, False)[1] / G_L, rel=1e-9)
