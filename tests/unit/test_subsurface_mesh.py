"""The sub-surface layer's geometry and mesh (issue 12 item 2): validation of its thickness, the
mesh-cache key, and at least three cells across the layer in 2D and 3D."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from ecx_device.device import gmsh_model
from ecx_device.device.geometry import SUBSURFACE_CELLS_ACROSS, DeviceGeometry
from ecx_device.device.mesh_cache import cache_key, extract_arrays
from ecx_device.device.names import REGION_TAGS, Region

SMALL = dict(wire_diameter=10.0, wire_free_length=20.0, cu_contact_length=3.0, cu_radius=15.0,
             cu_thickness=10.0, w_apex_radius=4.0, w_contact_depth=1.0, w_height=10.0,
             wire_mesh_size=2.0, contact_mesh_size=2.0, metal_mesh_size=5.0,
             subsurface_thickness=1.5)


@pytest.mark.parametrize("thickness", [0.5, 2.5, float("nan")])
def test_thickness_out_of_range_is_a_one_line_error(thickness):
    with pytest.raises(ValueError) as err:
        DeviceGeometry(subsurface_thickness=thickness).validate()
    msg = str(err.value)
    assert msg.startswith(f"subsurface_thickness: {thickness!r} nm") and "expected 1-2 nm" in msg
    assert "\n" not in msg


def test_layer_mesh_size_must_give_three_cells_across():
    with pytest.raises(ValueError, match="subsurface_mesh_size: 0.6 nm; expected"):
        DeviceGeometry(subsurface_thickness=1.5, subsurface_mesh_size=0.6).validate()
    DeviceGeometry(subsurface_thickness=1.5, subsurface_mesh_size=0.5).validate()


def test_cache_key_includes_the_layer():
    base = DeviceGeometry()
    keys = {cache_key(base), cache_key(dataclasses.replace(base, subsurface_thickness=1.5)),
            cache_key(dataclasses.replace(base, subsurface_thickness=2.0)),
            cache_key(dataclasses.replace(base, subsurface_thickness=2.0,
                                          subsurface_mesh_size=0.5))}
    assert len(keys) == 4


def _cells_hit(x: np.ndarray, cells: np.ndarray, points: np.ndarray) -> set[int]:
    """Indices of the simplices (rows of ``cells`` into ``x``) containing any of ``points``."""
    gdim = cells.shape[1] - 1
    v0 = x[cells[:, 0], :gdim]
    T = np.stack([x[cells[:, k], :gdim] - v0 for k in range(1, gdim + 1)], axis=-1)
    Tinv = np.linalg.inv(T)
    hit = set()
    for p in points:
        lam = np.einsum("cij,cj->ci", Tinv, p[:gdim] - v0)
        inside = (lam >= -1e-12).all(axis=1) & (lam.sum(axis=1) <= 1 + 1e-12)
        hit.update(np.flatnonzero(inside).tolist())
    return hit


@pytest.mark.parametrize("dimension", ["axisymmetric", "3d"])
def test_at_least_three_cells_across_the_layer(dimension):
    """On radial lines through the layer (several heights; in 3D two azimuths) every line crosses
    at least SUBSURFACE_CELLS_ACROSS wire cells between r = R - t_ss and r = R."""
    geom = DeviceGeometry(dimension=dimension, **SMALL)
    with gmsh_model.gmsh_session():
        gmsh_model.build_model(geom)
        arrays, _ = extract_arrays(geom.gdim)
    x, cells = arrays["x"], arrays["cells"]
    wire = cells[arrays["cell_values"] == REGION_TAGS[Region.WIRE]]
    R, t = geom.wire_radius, geom.subsurface_thickness
    centroid = x[wire].mean(axis=1)
    rho = np.hypot(centroid[:, 0], centroid[:, 1]) if dimension == "3d" else centroid[:, 0]
    layer = wire[rho > R - t - 1.0]  # candidates near the layer (cheap search)
    r = np.linspace(R - t + 1e-3, R - 1e-3, 200)
    counts = []
    azimuths = (0.0, 0.7) if dimension == "3d" else (0.0,)
    for z in (-1.5, 2.0, 10.0, 17.0):
        for phi in azimuths:
            if dimension == "3d":
                pts = np.column_stack([r * np.cos(phi), r * np.sin(phi), np.full_like(r, z)])
            else:
                pts = np.column_stack([r, np.full_like(r, z), np.zeros_like(r)])
            counts.append(len(_cells_hit(x, layer, pts)))
    print(f"{dimension}: {len(wire)} wire cells; cells across the layer {counts}")
    assert min(counts) >= SUBSURFACE_CELLS_ACROSS, counts


def test_case_key_error_names_the_key(tmp_path):
    """geometry.wire.subsurface_thickness out of range: the one-line error names the case key."""
    import yaml

    from ecx_device.case import load_case
    from ecx_device.device.from_case import device_geometry
    from ecx_device.errors import CaseError

    root = __import__("pathlib").Path(__file__).parents[2]
    data = yaml.safe_load((root / "cases" / "zhang2017_1V.yaml").read_text())
    data["geometry"]["wire"]["subsurface_thickness"] = "3 nm"
    path = tmp_path / "case.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(CaseError) as err:
        device_geometry(load_case(path))
    msg = str(err.value)
    assert msg.startswith("geometry.wire.subsurface_thickness: 3.0 nm") and "1-2 nm" in msg, msg
    data["geometry"]["wire"]["subsurface_thickness"] = "1.5 nm"
    path.write_text(yaml.safe_dump(data))
    geom = device_geometry(load_case(path))
    assert geom.subsurface_thickness == 1.5 and geom.subsurface_size == pytest.approx(0.5)


@pytest.mark.parametrize("dimension", ["axisymmetric", "1d"])
def test_run_log_reports_the_criterion_or_that_1d_has_no_layer(tmp_path, dimension):
    """The run log states t_axial and t_radial (their ratio from the material data, checked
    against (L/R)^2 / a_par) or, in 1D, that the layer is not modelled."""
    import yaml

    from ecx_device.case import load_case
    from ecx_device.device.from_case import device_geometry
    from ecx_device.materials import load_material
    from ecx_device.models import _log_subsurface

    root = __import__("pathlib").Path(__file__).parents[2]
    data = yaml.safe_load((root / "cases" / "zhang2017_1V.yaml").read_text())
    data["geometry"]["wire"]["subsurface_thickness"] = "1.5 nm"
    data["geometry"]["dimension"] = dimension
    path = tmp_path / "case.yaml"
    path.write_text(yaml.safe_dump(data))
    case = load_case(path)
    lines: list[str] = []
    wire = load_material("CdS_nanowire")
    _log_subsurface(case, device_geometry(case), wire, lines.append)
    if dimension == "1d":
        assert lines == [lines[0]] and "not modelled" in lines[0]
        return
    assert len(lines) == 3 and "600 K" in lines[1] and "800 K" in lines[2]
    expected = (300.0 / 20.0) ** 2 / float(wire("cu_subsurface_enhancement_axial", 600.0))
    ratio = float(lines[1].split("ratio ")[1].split()[0])
    assert ratio == pytest.approx(expected, rel=1e-2), lines[1]
