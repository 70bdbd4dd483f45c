"""Mesh cache and 3D mesher: a geometry is meshed once, a changed size or mesher meshes anew, and
the HXT mesh read back through the cache is conformal and has every named group."""

from __future__ import annotations

import os
from dataclasses import replace

import gmsh
import numpy as np
import pytest

from ecx_device.device import geometry, gmsh_model, mesh_cache
from ecx_device.device.geometry import DeviceGeometry
from ecx_device.device.names import FACET_TAGS, REGION_TAGS, Facet, Region
from ecx_device.fem import MPI, dolfinx
from ecx_device.mesh import Domain

THREE_D = DeviceGeometry(dimension="3d", wire_mesh_size=8.0, contact_mesh_size=4.0,
                         metal_mesh_size=60.0)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty cache folder and a counter of gmsh's mesh generations."""
    monkeypatch.setenv(mesh_cache.ENV, str(tmp_path / "cache"))
    calls = []
    generate = gmsh.model.mesh.generate

    def counting(dim=3):
        calls.append(dim)
        return generate(dim)

    monkeypatch.setattr(gmsh.model.mesh, "generate", counting)
    return tmp_path / "cache", calls


def test_second_run_reads_the_cache_and_a_changed_size_meshes_again(cache):
    folder, calls = cache
    geom = DeviceGeometry(dimension="axisymmetric")
    first, hit = mesh_cache.cached_mesh(geom)
    assert not hit and len(calls) == 1 and first.parent == folder
    again, hit = mesh_cache.cached_mesh(geom)
    assert hit and again == first and len(calls) == 1  # gmsh's mesher not called
    domain = Domain.from_geometry(geom)  # what a run does
    assert len(calls) == 1 and domain.mesh.topology.index_map(2).size_global > 1000
    finer, hit = mesh_cache.cached_mesh(replace(geom, contact_mesh_size=1.5))
    assert not hit and finer != first and len(calls) == 2
    assert sorted(p.name for p in folder.iterdir()) == sorted([first.name, finer.name])


def test_key_covers_gmsh_version_and_the_mesher_and_geometry_sources(monkeypatch):
    geom = DeviceGeometry(dimension="3d")
    key = mesh_cache.cache_key(geom)
    assert mesh_cache.cache_key(replace(geom)) == key
    monkeypatch.setattr(gmsh, "__version__", "0.0.0")
    assert mesh_cache.cache_key(geom) != key
    monkeypatch.undo()
    source = gmsh_model.__file__
    monkeypatch.setattr(gmsh_model, "__file__", mesh_cache.__file__)  # "another" mesher source
    assert mesh_cache.cache_key(geom) != key
    assert gmsh_model.__file__ != source
    monkeypatch.undo()
    # the geometry module's derived shapes (contact radius, rims on fronts) shape the mesh too
    monkeypatch.setattr(geometry, "__file__", mesh_cache.__file__)
    assert mesh_cache.cache_key(geom) != key


def test_cache_off_meshes_every_time_and_keeps_nothing(tmp_path, monkeypatch, cache):
    _, calls = cache
    monkeypatch.setenv(mesh_cache.ENV, "off")
    geom = DeviceGeometry(dimension="1d")
    a = Domain.from_geometry(geom)
    b = Domain.from_geometry(geom)
    assert len(calls) == 2
    assert a.mesh.topology.index_map(1).size_global == b.mesh.topology.index_map(1).size_global


def test_threads_variable_is_checked(monkeypatch):
    monkeypatch.setenv(gmsh_model.THREADS_ENV, "two")
    with pytest.raises(ValueError, match="ECX_GMSH_THREADS='two'"):
        gmsh_model.mesher_threads(THREE_D)
    monkeypatch.setenv(gmsh_model.THREADS_ENV, "2")
    assert gmsh_model.mesher_threads(THREE_D) == 2
    assert gmsh_model.mesher_threads(replace(THREE_D, dimension="axisymmetric")) == 1


@pytest.mark.parametrize("threads", ["1", "2"])
def test_hxt_mesh_is_conformal_with_all_groups(cache, monkeypatch, threads):
    """Through the cache into DOLFINx: every region and facet group, positive cell volumes, and the
    only facets with one cell are those of the outer groups (a non-conformal interface would add
    its facets to the boundary)."""
    monkeypatch.setenv(gmsh_model.THREADS_ENV, threads)
    domain = Domain.from_geometry(THREE_D)
    assert set(domain.cells) == set(REGION_TAGS) and set(domain.facets) >= {
        Facet.CU_SINK, Facet.W_SINK, Facet.CU_WIRE, Facet.W_WIRE, Facet.WIRE_SURFACE}
    mesh = domain.mesh
    tdim = mesh.topology.dim
    exterior = dolfinx.mesh.exterior_facet_indices(mesh.topology)
    outer = [FACET_TAGS[f] for f in (Facet.CU_SINK, Facet.W_SINK, Facet.CU_SURFACE,
                                     Facet.W_SURFACE, Facet.WIRE_SURFACE)]
    tagged = domain.facet_tags.indices[np.isin(domain.facet_tags.values, outer)]
    n_owned = mesh.topology.index_map(tdim - 1).size_local
    assert np.array_equal(np.sort(exterior[exterior < n_owned]),
                          np.sort(tagged[tagged < n_owned]))
    x = mesh.geometry.x[mesh.geometry.dofmaps[0]]  # (cells, 4, 3)
    volume = np.abs(np.einsum("ij,ij->i", np.cross(x[:, 1] - x[:, 0], x[:, 2] - x[:, 0]),
                              x[:, 3] - x[:, 0])) / 6
    assert volume.min() > 1e-3 * volume.mean()  # no flat (sliver) cells
    owned = np.arange(mesh.topology.index_map(tdim).size_local)
    wire = np.isin(owned, domain.cell_tags.find(REGION_TAGS[Region.WIRE]))
    wire_volume = mesh.comm.allreduce(volume[owned][wire].sum(), op=MPI.SUM)
    # inscribed facets: ~1.5 % short at 8 nm on a 20 nm radius (test_geometry.py)
    assert wire_volume == pytest.approx(THREE_D.wire_volume, rel=0.02)
    assert wire_volume < THREE_D.wire_volume
    assert os.listdir(cache[0])  # read back from the cache file
