"""Mesh refinement at a prescribed composition front (geometry.mesh.front_size, issue 14):
the fronts the composition reports are where X crosses half its value, and the mesher puts
cells of the front size there."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import numpy as np
import pytest

from ecx_device.case import load_case
from ecx_device.composition import CompositionProfile
from ecx_device.device import gmsh_model
from ecx_device.device.from_case import device_geometry
from ecx_device.device.geometry import DeviceGeometry
from ecx_device.device.mesh_cache import extract_arrays
from ecx_device.device.names import REGION_TAGS, Region
from ecx_device.errors import CaseError

NM = 1e-9
RADIUS, LENGTH, EMBEDDED = 10.0, 60.0, 8.0


def _spec(shape, **kw):
    base = dict(shape=shape, fraction=0.8, start=None, end=None, shell_thickness=None,
                closed_cu_end=True, closed_w_end=False, front_width=0.0, file=None)
    base.update(kw)
    return SimpleNamespace(**base)


SPECS = {
    "shell, closed Cu end": _spec("core_shell", shell_thickness=3 * NM),
    "shell, window, both closed": _spec("core_shell", shell_thickness=3 * NM, start=5 * NM,
                                        end=40 * NM, closed_w_end=True),
    "shell, window, open ends": _spec("core_shell", shell_thickness=3 * NM, start=5 * NM,
                                      end=40 * NM, closed_cu_end=False),
    "axial segment": _spec("axial_segment", start=12 * NM, end=33 * NM),
}


def _distance_to(segments, z, r):
    """Distance of (z, r) to the nearest segment (z0, r0, z1, r1), by brute force."""
    best = np.inf
    for z0, r0, z1, r1 in segments:
        t = np.linspace(0.0, 1.0, 2001)
        best = min(best, np.hypot(z0 + t * (z1 - z0) - z, r0 + t * (r1 - r0) - r).min())
    return best


@pytest.mark.parametrize("name", SPECS)
def test_every_crossing_of_half_the_fraction_lies_on_a_reported_front(name):
    """Scan X (a sharp front) along lines of constant z and of constant r; every place where
    X crosses fraction/2 is on a segment, and every segment has crossings along it."""
    profile = CompositionProfile(SPECS[name], RADIUS, LENGTH, EMBEDDED)
    segments = profile.front_segments()
    half = 0.5 * SPECS[name].fraction
    crossings = []
    fine = np.linspace(0.0, 1.0, 4001)
    for z in np.arange(-EMBEDDED + 0.37, LENGTH, 1.1):  # radial lines (offsets avoid corners)
        r = fine * RADIUS
        x = profile(np.full_like(r, z), r) - half
        k = np.flatnonzero(np.sign(x[1:]) != np.sign(x[:-1]))
        crossings += [(z, 0.5 * (r[i] + r[i + 1])) for i in k]
    for r0 in np.arange(0.23, RADIUS, 0.7):  # axial lines
        z = -EMBEDDED + fine * (LENGTH + EMBEDDED)
        x = profile(z, np.full_like(z, r0)) - half
        k = np.flatnonzero(np.sign(x[1:]) != np.sign(x[:-1]))
        crossings += [(0.5 * (z[i] + z[i + 1]), r0) for i in k]
    assert crossings
    step = (LENGTH + EMBEDDED) / 4000
    far = [p for p in crossings if _distance_to(segments, *p) > step]
    assert not far, f"crossings off every reported front: {far[:5]} (fronts {segments})"
    for seg in segments:  # no segment without a crossing near its middle
        zm, rm = 0.5 * (seg[0] + seg[2]), 0.5 * (seg[1] + seg[3])
        near = min(np.hypot(zc - zm, rc - rm) for zc, rc in crossings)
        assert near < 0.5 * max(seg[2] - seg[0], seg[3] - seg[1]) + 1.2, seg


SMALL = dict(wire_diameter=20.0, wire_free_length=60.0, cu_contact_length=8.0, cu_radius=30.0,
             cu_thickness=20.0, w_apex_radius=8.0, w_contact_depth=2.0, w_height=20.0,
             wire_mesh_size=2.0, contact_mesh_size=1.0, metal_mesh_size=8.0)


def _mesh(geom):
    with gmsh_model.gmsh_session():
        gmsh_model.build_model(geom)
        arrays, _ = extract_arrays(geom.gdim)
    return arrays


def _cell_sizes(arrays, region=Region.WIRE):
    """Centroids and edge lengths (longest edge) of the region's cells."""
    x, cells = arrays["x"], arrays["cells"]
    cells = cells[arrays["cell_values"] == REGION_TAGS[region]]
    pts = x[cells]
    edges = [np.linalg.norm(pts[:, i] - pts[:, j], axis=1)
             for i in range(cells.shape[1]) for j in range(i)]
    return pts.mean(axis=1), np.max(edges, axis=0)


def test_axisymmetric_cells_at_the_front_have_the_front_size():
    """A shell front at r = 7 nm: cells whose centroid lies within the band have at most the
    front size (longest edge, with gmsh's usual 40 % slack); without front_size they are wire
    sized, so the refinement is the option's doing."""
    segments = ((-5.0, 7.0, 60.0, 7.0), (-5.0, 0.0, -5.0, 7.0))
    base = DeviceGeometry(dimension="axisymmetric", **SMALL)
    refined = dataclasses.replace(base, front_mesh_size=0.4, front_segments=segments,
                                  front_band=1.0)
    refined.validate()
    for geom, limit in ((refined, 0.4 * 1.4), (base, None)):
        centroid, h = _cell_sizes(_mesh(geom))
        r, z = np.abs(centroid[:, 0]), centroid[:, 1]
        on_front = (np.abs(r - 7.0) < 0.8) & (z > 5.0) & (z < 50.0)
        assert on_front.sum() > 50
        if limit is not None:
            assert h[on_front].max() <= limit
            core = (r < 3.0) & (z > 20.0) & (z < 40.0)  # 4 nm and more from any front
            assert np.median(h[core]) > 3 * 0.4
        else:
            assert np.median(h[on_front]) > 1.5


def test_1d_mesh_is_refined_at_an_axial_front_only():
    """1D: the front across the wire at z = 30 nm gets the front size; a lateral (shell) front
    is averaged over the cross-section, so it refines nothing."""
    segments = ((-5.0, 7.0, 60.0, 7.0), (30.0, 0.0, 30.0, 10.0))
    geom = DeviceGeometry(dimension="1d", **SMALL, front_mesh_size=0.25,
                          front_segments=segments, front_band=1.0)
    geom.validate()
    x = np.sort(_mesh(geom)["x"][:, 0])
    h, mid = np.diff(x), 0.5 * (x[1:] + x[:-1])
    assert h[np.abs(mid - 30.0) < 0.9].max() <= 0.25 * 1.2
    assert h[(mid > 10.0) & (mid < 20.0)].min() > 1.0  # away from the front and the contacts


def test_front_size_errors_name_the_case_key(tmp_path):
    case = load_case("cases/zhang2017_stage_c_dd.yaml")

    def with_mesh(case, **update):
        mesh = case.geometry.mesh.model_copy(update=update)
        return case.model_copy(update={"geometry": case.geometry.model_copy(
            update={"mesh": mesh})})

    with pytest.raises(CaseError) as err:
        device_geometry(with_mesh(case, front_size=3 * NM))
    msg = str(err.value)
    assert msg.startswith("geometry.mesh.front_size: 3.0 nm; expected 0 < size <= "), msg
    uniform = with_mesh(case, front_size=0.25 * NM).model_copy(update={
        "composition": case.composition.model_copy(update={"shape": "uniform"})})
    with pytest.raises(CaseError, match=r"^geometry.mesh.front_size: 0.25 nm, but the "
                                        r"composition has no front"):
        device_geometry(uniform)
    table = with_mesh(case, front_size=0.25 * NM).model_copy(update={
        "composition": case.composition.model_copy(update={"shape": "file",
                                                           "file": "x.npz"})})
    with pytest.raises(CaseError, match=r"^geometry.mesh.front_size: composition shape 'file'"):
        device_geometry(table)


def test_a_contact_rim_on_a_front_gets_a_quarter_of_the_front_size():
    """The W contact's rim (r = w_contact_radius on the end face): with a shell front through
    it, cells within half a front width of the rim are a quarter of the front size; with the
    front 1.7 nm away (outside its band) they keep the front band's sizes, so the refinement
    follows the rim's place on a front and not the front option alone."""
    base = DeviceGeometry(dimension="axisymmetric", **SMALL)
    rim = base.w_contact_radius
    for front_r, on_front in ((rim, True), (rim + 1.7, False)):
        geom = dataclasses.replace(base, front_mesh_size=0.4, front_band=1.0,
                                   front_segments=((-5.0, front_r, 60.0, front_r),))
        geom.validate()
        assert geom.contact_rims_on_fronts() == (((60.0, rim),) if on_front else ())
        centroid, h = _cell_sizes(_mesh(geom))
        # (a wider circle without the refinement: the rim is a corner, few 0.4 nm cells touch it)
        near = np.hypot(np.abs(centroid[:, 0]) - rim, centroid[:, 1] - 60.0) \
            < (0.25 if on_front else 0.6)
        assert near.sum() >= 3
        if on_front:
            assert h[near].max() <= 0.1 * 1.4
        else:
            assert h[near].min() > 0.1 * 1.4
