"""The device's real contacts (issue 12, item 3): the side-contact and side-W geometries, the
contact layers, their case keys, the sourced boundary conductance and the mesh cache keys.

Each 3D mesh is small (contact size 4 nm); lengths in nm.
"""

from __future__ import annotations

import copy
import math
from dataclasses import replace
from pathlib import Path

import gmsh
import pytest
import yaml

from ecx_device.case.loader import load_case, validate_case
from ecx_device.device import mesh_cache
from ecx_device.device.from_case import boundary_conductances, device_geometry
from ecx_device.device.geometry import DeviceGeometry
from ecx_device.device.gmsh_model import build_model, gmsh_session
from ecx_device.device.names import LAYER_TAGS, Facet
from ecx_device.errors import CaseError

CASES = Path(__file__).resolve().parents[2] / "cases"
SIDE = DeviceGeometry(dimension="3d", cu_contact="side", wire_mesh_size=8.0,
                      contact_mesh_size=4.0, metal_mesh_size=60.0, contact_layer_thickness=0.5)


def _measures(geom: DeviceGeometry) -> dict[str, float]:
    """OCC measure (volume or area, nm^3 / nm^2) of every physical group of the built model."""
    with gmsh_session():
        build_model(geom)
        return {gmsh.model.getPhysicalName(d, t): sum(gmsh.model.occ.getMass(d, e) for e in
                                                      gmsh.model.getEntitiesForPhysicalGroup(d, t))
                for d, t in gmsh.model.getPhysicalGroups()}


def test_side_contact_strip_area_and_layers():
    m = _measures(SIDE)
    # the strip: arc width 2 a theta over the contact length, plus the foot's segment; exact
    # for the OCC shapes (not the mesh)
    a, depth = SIDE.wire_radius, SIDE.cu_side_depth
    theta = math.acos((a - depth) / a)
    strip = 2 * a * theta * SIDE.cu_contact_length + a**2 * (theta - math.sin(theta) * math.cos(
        theta))
    assert m[Facet.CU_WIRE] == pytest.approx(strip, rel=1e-6)
    assert m["cu"] + m["cu_wire_layer"] == pytest.approx(SIDE.cu_volume, rel=1e-6)
    # the layer is t thick under the interface, plus thin wedges where the circle r = a + t
    # meets the block's top beyond the strip's edges (acos(18/20.5) against acos(18/20)):
    # at most ~12 % more
    assert 0.5 * m[Facet.CU_WIRE] < m["cu_wire_layer"] < 1.12 * 0.5 * m[Facet.CU_WIRE]
    assert m["w_wire_layer"] == pytest.approx(0.5 * m[Facet.W_WIRE], rel=0.1)
    # block bottom: 2 R wide (y) and R deep (z)
    assert m[Facet.CU_SINK] == pytest.approx(2 * SIDE.cu_radius**2, rel=1e-9)


def test_side_w_contact_builds_with_all_groups():
    geom = replace(SIDE, w_contact="side", contact_layer_thickness=0.0)
    m = _measures(geom)
    assert set(LAYER_TAGS).isdisjoint(m)  # no layer without a conductance
    assert m[Facet.W_WIRE] > 0 and m[Facet.W_SINK] > 0
    # apex sphere (R = 25) dipping 5 nm into the wire's side (a = 20): the wire surface inside
    # the sphere is smaller than the disk the sphere would cut from a plane at that depth,
    # pi (2 R depth - depth^2), as the cylinder curves away across the wire; more than half
    disk = math.pi * (2 * 25 * 5 - 5**2)
    assert 0.5 * disk < m[Facet.W_WIRE] < disk


@pytest.mark.parametrize("changes, fragment", [
    ({"cu_contact": "flat"}, "cu_contact: 'flat'; expected one of ('embedded', 'side')"),
    ({"dimension": "axisymmetric", "wire_mesh_size": 4.0, "contact_mesh_size": 2.0,
      "metal_mesh_size": 40.0}, "cu_contact: 'side' is not axisymmetric"),
    ({"cu_side_depth": 12.0}, "cu_side_depth: 12.0 nm; expected 0 < depth"),
    ({"cu_side_depth": 0.2}, "cu_side_depth: 0.2 nm gives a contact strip"),
    ({"cu_radius": 60.0}, "cu_radius: 60.0 nm; expected more than cu_contact_length"),
    ({"contact_layer_thickness": 3.0}, "contact_layer_thickness: 3.0 nm; expected at most"),
    ({"w_contact": "side", "w_side_offset": 2.0}, "w_side_offset: 2.0 nm; expected the contact"),
])
def test_bad_contact_geometry_names_the_field(changes, fragment):
    with pytest.raises(ValueError) as err:
        replace(SIDE, **changes).validate()
    assert fragment in str(err.value) and "\n" not in str(err.value)


def test_cache_key_covers_the_contact_options():
    keys = {mesh_cache.cache_key(g) for g in (
        SIDE, replace(SIDE, cu_contact="embedded"), replace(SIDE, w_contact="side"),
        replace(SIDE, cu_side_depth=3.0), replace(SIDE, w_side_offset=50.0),
        replace(SIDE, contact_layer_thickness=0.0))}
    assert len(keys) == 6


def _side_case() -> dict:
    return yaml.safe_load((CASES / "zhang2017_1V_side_contact.yaml").read_text())


def test_side_case_keys_reach_the_geometry_and_conductances():
    case = load_case(CASES / "zhang2017_1V_side_contact.yaml")
    geom = device_geometry(case)
    assert (geom.dimension, geom.cu_contact, geom.w_contact) == ("3d", "side", "end")
    assert geom.cu_side_depth == pytest.approx(2.0) and geom.contact_layer_thickness == 0.5
    # 'sourced': materials/data/contacts.yaml, Hopkins 2013
    assert boundary_conductances(case) == {"cu_wire": 1e8, "w_wire": 1e8}
    assert case.thermal.beam_heating == 0.0


def test_default_case_has_the_sourced_conductance_and_its_layer():
    case = load_case(CASES / "zhang2017_1V.yaml")
    # the case file sets no conductance: the default is the sourced value (Hopkins 2013)
    assert "boundary_conductance" not in (CASES / "zhang2017_1V.yaml").read_text()
    assert boundary_conductances(case) == {"cu_wire": 1e8, "w_wire": 1e8}
    geom = device_geometry(case)
    assert (geom.cu_contact, geom.w_contact, geom.contact_layer_thickness) == \
        ("embedded", "end", 0.5)


def test_infinite_conductance_removes_the_layer():
    data = yaml.safe_load((CASES / "zhang2017_1V.yaml").read_text())
    data["thermal"] |= {"cu_wire_boundary_conductance": "infinite",
                        "w_wire_boundary_conductance": "perfect"}
    case = validate_case(data, "x.yaml")
    assert boundary_conductances(case) == {}
    assert device_geometry(case).contact_layer_thickness == 0.0


@pytest.mark.parametrize("key, value, expected", [
    ("cu_wire_boundary_conductance", "2e8 W/(m^2 K)", {"cu_wire": 2e8, "w_wire": 1e8}),
    ("cu_wire_boundary_conductance", "0.02 GW/(m^2 K)", {"cu_wire": 2e7, "w_wire": 1e8}),
    ("w_wire_boundary_conductance", "infinite", {"cu_wire": 1e8}),
])
def test_conductance_values(key, value, expected):
    data = _side_case()
    data["thermal"][key] = value
    assert boundary_conductances(validate_case(data, "x.yaml")) == pytest.approx(expected)


@pytest.mark.parametrize("path, value, fragment", [
    (["thermal", "cu_wire_boundary_conductance"], "1e8 W/m^2", "x.yaml: thermal.cu_wire_bound"),
    (["thermal", "cu_wire_boundary_conductance"], "-1e8 W/(m^2 K)", "must be positive"),
    (["thermal", "beam_heating"], "1e15 W", "x.yaml: thermal.beam_heating"),
    (["geometry", "contact", "cu"], "glued", "x.yaml: geometry.contact.cu"),
])
def test_bad_contact_keys_give_one_line_errors(path, value, fragment):
    data = _side_case()
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(CaseError) as err:
        validate_case(data, "x.yaml")
    assert fragment in str(err.value) and "\n" not in str(err.value)


def test_geometry_errors_name_the_case_key():
    data = _side_case()
    data["geometry"]["dimension"] = "axisymmetric"
    with pytest.raises(CaseError, match=r"^geometry\.contact\.cu: 'side' is not axisymmetric"):
        device_geometry(validate_case(copy.deepcopy(data), "x.yaml"))
    data = _side_case()
    data["geometry"]["wire"]["cu_contact_length"] = "190 nm"
    with pytest.raises(CaseError, match=r"geometry.cu_electrode.radius: .* more than "
                       r"geometry.wire.cu_contact_length"):
        device_geometry(validate_case(data, "x.yaml"))


def test_sourced_conductance_for_an_unknown_pair_fails_in_one_line():
    data = _side_case()
    data["materials"]["wire"] = "CdS_zincblende"  # contacts.yaml has CdS_nanowire only
    with pytest.raises(CaseError, match=r"thermal.cu_wire_boundary_conductance = 'sourced': "
                       r"no thermal boundary conductance for Cu on CdS_zincblende"):
        boundary_conductances(validate_case(data, "x.yaml"))
