"""Unit tests of ecx_device.device (geometry, gmsh model, names): shapes, physical groups, measures, sizes and DOLFINx import.

Each mesh is built once per module in its own gmsh session and reduced to a plain
:class:`MeshSummary`, so no gmsh state leaks between tests. Lengths are in nm.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import gmsh
import numpy as np
import pytest

from ecx_device.device.geometry import DeviceGeometry
from ecx_device.device.gmsh_model import build_model, gmsh_session, write_msh
from ecx_device.device.names import FACET_TAGS, FACETS, REGION_TAGS, REGIONS

# The axisymmetric default mesh, and the 3D mesh at the coarser sizes used for 3D runs.
AXISYMMETRIC = DeviceGeometry(dimension="axisymmetric")
THREE_D = DeviceGeometry(
    dimension="3d", wire_mesh_size=8.0, contact_mesh_size=4.0, metal_mesh_size=60.0
)
ONE_D = DeviceGeometry(dimension="1d")
# Apex pushed 15 nm into the wire: the W rim (radius ~22.9 nm) is wider than the wire (20 nm), so
# the W|wire interface is the whole end face plus a band of the wire's side.
WIDE_CONTACT = replace(AXISYMMETRIC, w_contact_depth=15.0)

# Meshed cylinders and spheres are inscribed polygons, so their measures fall short of the exact
# ones by O((h / r)^2): about 1.5 % for the 3D wire at h = 8 nm. The W tip's far end is meshed at
# the metal size (60 nm on an 86 nm radius, ~9 segments a circle), about 6 % short. Straight-edged
# regions of the axisymmetric cross-section are exact up to rounding.
TOL_3D_MESH = 0.02
TOL_3D_COARSE = 0.08
TOL_EXACT = 1e-6
TOL_ARC_2D = 1e-3

GMSH_LINE, GMSH_TRIANGLE, GMSH_TETRAHEDRON = 1, 2, 4


@dataclass
class MeshSummary:
    """What the tests need from one built model, copied out of gmsh."""

    geom: DeviceGeometry
    groups: dict[str, int] = field(default_factory=dict)  # name -> dimension
    facet_groups: dict[int, list[str]] = field(default_factory=dict)  # facet entity -> group names
    facet_entities: set[int] = field(default_factory=set)  # every facet entity of the model
    mesh_measure: dict[str, float] = field(default_factory=dict)  # volume / area from the mesh
    exact_measure: dict[str, float] = field(default_factory=dict)  # from the OCC geometry
    element_types: dict[str, set[int]] = field(default_factory=dict)
    element_count: dict[str, int] = field(default_factory=dict)
    mean_edge: dict[str, float] = field(default_factory=dict)  # mean element edge per group
    p99_edge: dict[str, float] = field(default_factory=dict)  # 99th-percentile edge per group
    group_coordinates: dict[str, np.ndarray] = field(default_factory=dict)  # node coordinates


def _summarise(geom: DeviceGeometry) -> MeshSummary:
    """Build `geom` in a fresh gmsh session and copy out groups, measures and element data."""
    summary = MeshSummary(geom)
    axisymmetric = geom.dimension == "axisymmetric"
    with gmsh_session():
        build_model(geom)
        summary.facet_entities = {int(tag) for _, tag in gmsh.model.getEntities(geom.gdim - 1)}
        node_tags, coords, _ = gmsh.model.mesh.getNodes()
        positions = np.zeros((int(node_tags.max()) + 1, 3))
        positions[node_tags] = coords.reshape(-1, 3)
        for dim, tag in gmsh.model.getPhysicalGroups():
            name = gmsh.model.getPhysicalName(dim, tag)
            summary.groups[name] = dim
            entities = [int(e) for e in gmsh.model.getEntitiesForPhysicalGroup(dim, tag)]
            if dim == geom.gdim - 1:
                for entity in entities:
                    summary.facet_groups.setdefault(entity, []).append(name)
            summary.exact_measure[name] = sum(gmsh.model.occ.getMass(dim, e) for e in entities)
            measure, count, types, nodes, edges = 0.0, 0, set(), [], []
            for entity in entities:
                element_types, _, element_nodes = gmsh.model.mesh.getElements(dim, entity)
                for element_type, connectivity in zip(element_types, element_nodes, strict=True):
                    types.add(int(element_type))
                    vertices = positions[connectivity.reshape(-1, dim + 1 if dim else 1)]
                    nodes.append(vertices.reshape(-1, 3))
                    count += len(vertices)
                    if dim == 0:
                        continue
                    sizes = _simplex_measures(vertices)
                    if axisymmetric:
                        # Pappus: a linear simplex sweeps 2 pi r_centroid times its measure.
                        sizes = sizes * 2.0 * math.pi * vertices[:, :, 0].mean(axis=1)
                    measure += float(sizes.sum())
                    edges.append(_edge_lengths(vertices))
            summary.mesh_measure[name] = measure
            summary.element_types[name] = types
            summary.element_count[name] = count
            if edges:
                lengths = np.concatenate(edges)
                summary.mean_edge[name] = float(lengths.mean())
                summary.p99_edge[name] = float(np.percentile(lengths, 99))
            summary.group_coordinates[name] = np.unique(np.concatenate(nodes), axis=0)
    return summary


def _simplex_measures(vertices: np.ndarray) -> np.ndarray:
    """Length / area / volume of linear simplices given as (n, k + 1, 3) vertex arrays."""
    edges = vertices[:, 1:] - vertices[:, :1]
    if edges.shape[1] == 1:
        return np.linalg.norm(edges[:, 0], axis=1)
    if edges.shape[1] == 2:
        return 0.5 * np.linalg.norm(np.cross(edges[:, 0], edges[:, 1]), axis=1)
    return np.abs(np.linalg.det(edges)) / 6.0


def _edge_lengths(vertices: np.ndarray) -> np.ndarray:
    """All edge lengths of simplices given as (n, k + 1, 3) vertex arrays (shared edges repeat)."""
    corners = vertices.shape[1]
    return np.concatenate(
        [
            np.linalg.norm(vertices[:, i] - vertices[:, j], axis=1)
            for i in range(corners)
            for j in range(i + 1, corners)
        ]
    )


def _w_volume_with_disk_contact(geom: DeviceGeometry) -> float:
    """Analytic W volume (nm^3): apex cap + cone frustum - the lens left to the wire.

    Only valid when the W rim at z = L is narrower than the wire, so the lens is a spherical cap.
    """
    radius, depth = geom.w_apex_radius, geom.w_contact_depth
    cap_height = geom.w_tangent_z - geom.w_apex_z
    cap = math.pi * cap_height**2 * (3 * radius - cap_height) / 3
    r1, r2 = geom.w_tangent_radius, geom.w_far_radius
    frustum = math.pi * (geom.w_far_z - geom.w_tangent_z) * (r1**2 + r1 * r2 + r2**2) / 3
    lens = math.pi * depth**2 * (3 * radius - depth) / 3
    return cap + frustum - lens


@pytest.fixture(scope="module")
def one_d() -> MeshSummary:
    return _summarise(ONE_D)


@pytest.fixture(scope="module")
def axisymmetric() -> MeshSummary:
    return _summarise(AXISYMMETRIC)


@pytest.fixture(scope="module")
def wide_contact() -> MeshSummary:
    return _summarise(WIDE_CONTACT)


@pytest.fixture(scope="module")
def three_d() -> MeshSummary:
    return _summarise(THREE_D)


# --------------------------------------------------------------------------------------------------
# validate()


def test_defaults_are_valid() -> None:
    for geom in (AXISYMMETRIC, THREE_D, ONE_D, WIDE_CONTACT):
        geom.validate()


def test_validate_rejects_cu_thinner_than_embedded_wire() -> None:
    geom = replace(AXISYMMETRIC, cu_thickness=40.0)  # < cu_contact_length = 50
    with pytest.raises(ValueError, match=r"^cu_thickness: 40\.0 nm") as error:
        geom.validate()
    assert "\n" not in str(error.value)
    assert "expected" in str(error.value)


@pytest.mark.parametrize(
    ("changes", "field_name"),
    [
        ({"dimension": "2d"}, "dimension"),
        ({"wire_diameter": -40.0}, "wire_diameter"),
        ({"metal_mesh_size": math.nan}, "metal_mesh_size"),
        ({"cu_thickness": 50.0}, "cu_thickness"),  # equal is not enough
        ({"cu_radius": 15.0}, "cu_radius"),
        ({"w_contact_depth": 25.0}, "w_contact_depth"),  # = apex radius
        ({"w_contact_depth": 10.0}, "w_contact_depth"),  # W rim exactly on the wire's edge
        ({"w_contact_depth": 0.05}, "w_contact_depth"),  # contact narrower than one element
        ({"w_cone_half_angle": 90.0}, "w_cone_half_angle"),
        ({"w_height": 10.0}, "w_height"),  # below the top of the apex cap
        ({"contact_mesh_size": 5.0}, "contact_mesh_size"),  # coarser than the wire size
        ({"wire_mesh_size": 50.0}, "wire_mesh_size"),  # coarser than the metal size
    ],
)
def test_validate_names_the_bad_field(changes: dict[str, object], field_name: str) -> None:
    with pytest.raises(ValueError, match=rf"^{field_name}: ") as error:
        replace(AXISYMMETRIC, **changes).validate()
    assert "\n" not in str(error.value)


def test_build_model_validates_before_meshing() -> None:
    with gmsh_session():
        with pytest.raises(ValueError, match="^cu_thickness"):
            build_model(replace(AXISYMMETRIC, cu_thickness=10.0), name="bad")
        assert "bad" not in gmsh.model.list()


def test_analytic_contact_radius_and_area() -> None:
    # Sphere of radius 25 cut 5 deep: rim radius sqrt(2 R delta - delta^2) = 15.
    assert AXISYMMETRIC.w_contact_radius == pytest.approx(15.0)
    assert AXISYMMETRIC.w_wire_area == pytest.approx(math.pi * 15.0**2)
    # Cut 15 deep, wider than the wire: end face plus the side band above z = L - 5.
    assert WIDE_CONTACT.w_wire_area == pytest.approx(math.pi * 20**2 + 2 * math.pi * 20 * 5.0)


# --------------------------------------------------------------------------------------------------
# 1D


def test_1d_spans_free_wire_with_tagged_ends(one_d: MeshSummary) -> None:
    length = ONE_D.wire_free_length
    assert one_d.groups == {"wire": 1, "cu_sink": 0, "w_sink": 0}
    assert one_d.element_types["wire"] == {GMSH_LINE}
    x = one_d.group_coordinates["wire"]
    assert x[:, 0].min() == pytest.approx(0.0, abs=1e-12)
    assert x[:, 0].max() == pytest.approx(length)
    assert np.allclose(x[:, 1:], 0.0)
    assert one_d.group_coordinates["cu_sink"] == pytest.approx(np.array([[0.0, 0.0, 0.0]]))
    assert one_d.group_coordinates["w_sink"] == pytest.approx(np.array([[length, 0.0, 0.0]]))
    assert one_d.mesh_measure["wire"] == pytest.approx(length)


def test_1d_sizes_fine_at_contacts_and_wire_size_inside(one_d: MeshSummary) -> None:
    x = np.sort(one_d.group_coordinates["wire"][:, 0])
    steps = np.diff(x)
    assert steps[0] <= 1.1 * ONE_D.contact_mesh_size
    assert steps[-1] <= 1.1 * ONE_D.contact_mesh_size
    assert steps.max() <= 1.1 * ONE_D.wire_mesh_size
    assert steps.max() >= 0.9 * ONE_D.wire_mesh_size  # the middle is not needlessly fine


# --------------------------------------------------------------------------------------------------
# Axisymmetric and 3D: groups and facet classification

ALL_FACETS = {str(facet) for facet in FACETS}
ALL_REGIONS = {str(region) for region in REGIONS}


@pytest.mark.parametrize(
    ("summary_name", "expected_facets"),
    [
        ("axisymmetric", ALL_FACETS),
        ("wide_contact", ALL_FACETS),
        ("three_d", ALL_FACETS - {"axis"}),
    ],
)
def test_groups_exist_with_right_dimension(
    summary_name: str, expected_facets: set[str], request: pytest.FixtureRequest
) -> None:
    summary: MeshSummary = request.getfixturevalue(summary_name)
    dim = summary.geom.gdim
    assert set(summary.groups) == ALL_REGIONS | expected_facets
    for name in ALL_REGIONS:
        assert summary.groups[name] == dim, name
        assert summary.element_count[name] > 0, name
    for name in expected_facets:
        assert summary.groups[name] == dim - 1, name
        assert summary.element_count[name] > 0, name


@pytest.mark.parametrize("summary_name", ["axisymmetric", "wide_contact", "three_d"])
def test_every_facet_has_exactly_one_group(
    summary_name: str, request: pytest.FixtureRequest
) -> None:
    summary: MeshSummary = request.getfixturevalue(summary_name)
    assert set(summary.facet_groups) == summary.facet_entities
    assert all(len(names) == 1 for names in summary.facet_groups.values())


def test_group_tags_are_the_published_ones() -> None:
    with gmsh_session():
        build_model(AXISYMMETRIC)
        tags = {gmsh.model.getPhysicalName(d, t): t for d, t in gmsh.model.getPhysicalGroups()}
    assert tags == {**REGION_TAGS, **FACET_TAGS}


# --------------------------------------------------------------------------------------------------
# Measures: volumes and interface areas


def test_axisymmetric_volumes(axisymmetric: MeshSummary) -> None:
    geom = AXISYMMETRIC
    # Straight edges only: the swept mesh is exact.
    assert axisymmetric.mesh_measure["wire"] == pytest.approx(geom.wire_volume, rel=TOL_EXACT)
    assert axisymmetric.mesh_measure["cu"] == pytest.approx(geom.cu_volume, rel=TOL_EXACT)
    # The apex arc is polygonal in the mesh.
    w_volume = _w_volume_with_disk_contact(geom)
    assert axisymmetric.mesh_measure["w"] == pytest.approx(w_volume, rel=TOL_ARC_2D)


def test_axisymmetric_interface_areas(
    axisymmetric: MeshSummary, wide_contact: MeshSummary
) -> None:
    for summary in (axisymmetric, wide_contact):
        geom = summary.geom
        assert summary.mesh_measure["w_wire"] == pytest.approx(geom.w_wire_area, rel=TOL_EXACT)
        assert summary.mesh_measure["cu_wire"] == pytest.approx(geom.cu_wire_area, rel=TOL_EXACT)
        assert summary.mesh_measure["axis"] == 0.0  # r = 0 sweeps no area
    # The wire is unchanged by a deeper contact: it keeps the lens.
    assert wide_contact.mesh_measure["wire"] == pytest.approx(WIDE_CONTACT.wire_volume)


def test_sink_areas(axisymmetric: MeshSummary, three_d: MeshSummary) -> None:
    for summary in (axisymmetric, three_d):
        geom = summary.geom
        cu_sink = math.pi * geom.cu_radius**2
        w_sink = math.pi * geom.w_far_radius**2
        assert summary.exact_measure["cu_sink"] == pytest.approx(
            cu_sink if geom.gdim == 3 else geom.cu_radius, rel=TOL_EXACT
        )
        if geom.gdim == 2:
            assert summary.mesh_measure["cu_sink"] == pytest.approx(cu_sink, rel=TOL_EXACT)
            assert summary.mesh_measure["w_sink"] == pytest.approx(w_sink, rel=TOL_EXACT)
        else:
            assert summary.exact_measure["w_sink"] == pytest.approx(w_sink, rel=TOL_EXACT)
            assert summary.mesh_measure["cu_sink"] == pytest.approx(cu_sink, rel=TOL_3D_MESH)
            assert summary.mesh_measure["w_sink"] == pytest.approx(w_sink, rel=TOL_3D_COARSE)


def test_3d_volumes_and_areas(three_d: MeshSummary) -> None:
    geom = THREE_D
    expected = {
        "wire": geom.wire_volume,
        "cu": geom.cu_volume,
        "w": _w_volume_with_disk_contact(geom),
        "w_wire": geom.w_wire_area,
        "cu_wire": geom.cu_wire_area,
    }
    for name, value in expected.items():
        # The OCC solids are exact; the tetrahedra are inscribed, so slightly smaller.
        tolerance = TOL_3D_COARSE if name == "w" else TOL_3D_MESH
        assert three_d.exact_measure[name] == pytest.approx(value, rel=TOL_EXACT), name
        assert three_d.mesh_measure[name] == pytest.approx(value, rel=tolerance), name
        assert three_d.mesh_measure[name] < value, name


# --------------------------------------------------------------------------------------------------
# Elements and sizes


def test_element_types_and_counts(axisymmetric: MeshSummary, three_d: MeshSummary) -> None:
    for name in ALL_REGIONS:
        assert axisymmetric.element_types[name] == {GMSH_TRIANGLE}
        assert three_d.element_types[name] == {GMSH_TETRAHEDRON}
    triangles = sum(axisymmetric.element_count[name] for name in ALL_REGIONS)
    tetrahedra = sum(three_d.element_count[name] for name in ALL_REGIONS)
    assert 2_000 < triangles < 50_000
    assert 10_000 < tetrahedra < 200_000


@pytest.mark.parametrize("summary_name", ["axisymmetric", "three_d"])
def test_size_fields(summary_name: str, request: pytest.FixtureRequest) -> None:
    summary: MeshSummary = request.getfixturevalue(summary_name)
    geom = summary.geom
    # Facet meshes follow the size field closely: interface edges at the contact size, the wire's
    # surface at most the wire size, the far Cu face coarse. gmsh's 3D Delaunay leaves interior
    # edges ~1.3x the target (a uniform-size cylinder does the same), hence percentiles and slack.
    # The wire's side (a cylinder meshed in its parameter plane) has a few edges up to ~1.4x: its
    # 99th percentile is 1.16x (3D size field from sampled distances) to 1.21x (exact distances).
    for interface in ("w_wire", "cu_wire"):
        assert summary.mean_edge[interface] == pytest.approx(geom.contact_mesh_size, rel=0.25)
    assert summary.p99_edge["wire_surface"] <= 1.25 * geom.wire_mesh_size
    assert summary.mean_edge["wire"] <= geom.wire_mesh_size
    assert summary.mean_edge["cu_sink"] >= 0.5 * geom.metal_mesh_size
    assert summary.p99_edge["cu"] <= 1.2 * geom.metal_mesh_size


# --------------------------------------------------------------------------------------------------
# Sessions and files


def test_gmsh_session_initialises_and_finalises_only_its_own() -> None:
    assert not gmsh.isInitialized()
    with gmsh_session():
        assert gmsh.isInitialized()
        assert gmsh.option.getNumber("General.Terminal") == 0
        with gmsh_session():
            pass
        assert gmsh.isInitialized()  # the inner session did not own gmsh
    assert not gmsh.isInitialized()


def test_write_msh(tmp_path) -> None:
    path = write_msh(ONE_D, tmp_path / "out" / "wire.msh")
    assert not gmsh.isInitialized()  # this call initialised gmsh, so it finalised it
    text = path.read_text()
    assert text.startswith("$MeshFormat\n4.1 0 8")
    assert '"cu_sink"' in text and '"w_sink"' in text and '"wire"' in text
    with gmsh_session():
        write_msh(ONE_D, tmp_path / "again.msh")
        assert gmsh.isInitialized()  # the caller's session survives
        assert gmsh.model.getCurrent() == "again"


# --------------------------------------------------------------------------------------------------
# DOLFINx


@pytest.mark.parametrize("geom", [ONE_D, AXISYMMETRIC, THREE_D], ids=["1d", "axisym", "3d"])
def test_mesh_loads_into_dolfinx(geom: DeviceGeometry) -> None:
    try:
        import dolfinx_solver  # noqa: F401 - orders MPI ahead of the DOLFINx bindings
    except ImportError:
        pass
    dolfinx_gmsh = pytest.importorskip("dolfinx.io.gmsh")
    from mpi4py import MPI

    with gmsh_session():
        build_model(geom)
        mesh_data = dolfinx_gmsh.model_to_mesh(gmsh.model, MPI.COMM_WORLD, 0, gdim=geom.gdim)
    mesh = mesh_data.mesh
    assert mesh.geometry.dim == geom.gdim
    assert mesh.topology.dim == geom.gdim
    groups = mesh_data.physical_groups
    regions = {"wire"} if geom.gdim == 1 else ALL_REGIONS
    facets = {"cu_sink", "w_sink"} if geom.gdim == 1 else ALL_FACETS - (
        set() if geom.gdim == 2 else {"axis"}
    )
    assert set(groups) == regions | facets
    num_cells = mesh.topology.index_map(geom.gdim).size_local
    tagged_cells = sum(len(mesh_data.cell_tags.find(groups[name].tag)) for name in regions)
    assert tagged_cells == num_cells  # every cell is in exactly one region
    for name in facets:
        assert groups[name].dim == geom.gdim - 1, name
        assert len(mesh_data.facet_tags.find(groups[name].tag)) > 0, name
