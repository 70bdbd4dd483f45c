"""Names of the device's regions and facet groups, and their fixed physical-group tags.

Physics, outputs and solvers find regions by these names (never by integer); the gmsh builder
(:mod:`ecx_device.device.gmsh_model`) creates the groups with these tags. No gmsh here.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

__all__ = ["DIMENSIONS", "DONOR_TAG_BASE", "FACETS", "FACET_TAGS", "LAYERS", "LAYER_NAMES",
           "LAYER_TAGS", "REGIONS", "REGION_TAGS", "Facet", "Region", "donor_facet"]


class Region(StrEnum):
    """Names of the cell (highest-dimension) physical groups."""

    CU = "cu"
    WIRE = "wire"
    W = "w"


class Facet(StrEnum):
    """Names of the facet (codimension-1) physical groups."""

    CU_SINK = "cu_sink"  # Cu far face: heat sink and biased terminal
    W_SINK = "w_sink"  # W far face: heat sink and ground terminal
    WIRE_SURFACE = "wire_surface"  # free surface of the wire (radiates)
    CU_WIRE = "cu_wire"  # Cu|wire interface
    W_WIRE = "w_wire"  # W|wire interface
    CU_SURFACE = "cu_surface"  # other outer surfaces of the Cu electrode
    W_SURFACE = "w_surface"  # other outer surfaces of the W tip
    AXIS = "axis"  # r = 0 line (axisymmetric only)


# The spec-facing spellings: ``REGIONS.CU == "cu"``, ``FACETS.AXIS == "axis"``; both iterate.
REGIONS = Region
FACETS = Facet

# Fixed physical-group tags, so that tags read back from a .msh file mean the same in every run and
# every dimension (a group absent from a dimension, e.g. "cu" in 1D, simply has no entities).
REGION_TAGS: Final[dict[str, int]] = {Region.CU: 1, Region.WIRE: 2, Region.W: 3}
FACET_TAGS: Final[dict[str, int]] = {
    Facet.CU_SINK: 11,
    Facet.W_SINK: 12,
    Facet.WIRE_SURFACE: 13,
    Facet.CU_WIRE: 14,
    Facet.W_WIRE: 15,
    Facet.CU_SURFACE: 16,
    Facet.W_SURFACE: 17,
    Facet.AXIS: 18,
}

DIMENSIONS: Final[tuple[str, ...]] = ("1d", "axisymmetric", "3d")

# Contact layers: the thin part of a metal next to its interface with the wire, meshed as its own
# cell group when a thermal boundary conductance is set (docs/model.md 3.1b). For every physics
# but the heat equation's conductivity the layer is its metal: the Domain folds its cells back
# into the metal's region (tag) and keeps them aside as ``Domain.layer_cells[interface facet]``.
LAYERS: Final[dict[str, tuple[str, str]]] = {
    "cu_wire_layer": (Region.CU, Facet.CU_WIRE),
    "w_wire_layer": (Region.W, Facet.W_WIRE),
}
LAYER_NAMES: Final[dict[str, str]] = {Region.CU: "cu_wire_layer", Region.W: "w_wire_layer"}
LAYER_TAGS: Final[dict[str, int]] = {"cu_wire_layer": 4, "w_wire_layer": 5}

# A particle (sphere or rod, no electrodes; device/geometry.ParticleGeometry) is meshed as the
# ``wire`` region with ``wire_surface`` and ``axis`` facets, and one facet group per donor
# contact: ``donor_0``, ``donor_1``, ... with tags DONOR_TAG_BASE + i.
DONOR_TAG_BASE: Final[int] = 30


def donor_facet(index: int) -> str:
    """Name of the facet group of donor contact ``index`` (0-based)."""
    return f"donor_{index}"
