"""The device's dimensions and mesh sizes (:class:`DeviceGeometry`), with their validation.

All lengths in nm. The wire's axis is z; its free length runs from the Cu (z = 0) to its far end
(z = L); the part in contact with the Cu runs over z in [-cu_contact_length, 0]: embedded in a
Cu disk (``cu_contact="embedded"``), or lying on the flat top of a Cu block whose edge is the
plane z = 0 (``cu_contact="side"``, 3D: a wire drop-cast across the edge of a Cu grid). The W
tip touches the wire's end face (``w_contact="end"``) or its side near the end (``"side"``, 3D).
No gmsh here: the mesher is :mod:`ecx_device.device.gmsh_model`.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Final

from ecx_device.device.names import DIMENSIONS

__all__ = ["CU_CONTACTS", "MAX_CELLS", "SIZE_GRADIENT", "SUBSURFACE_CELLS_ACROSS",
           "SUBSURFACE_THICKNESS_RANGE", "W_CONTACTS", "DeviceGeometry", "ParticleDonor",
           "ParticleGeometry"]

#: How the wire meets the Cu electrode: its foot embedded in a Cu disk, or its side lying on a Cu
#: block across the block's edge.
CU_CONTACTS: Final[tuple[str, ...]] = ("embedded", "side")
#: Where the W tip touches the wire: its end face, or its side near the end.
W_CONTACTS: Final[tuple[str, ...]] = ("end", "side")

# Largest mesh validate() accepts: beyond this a typo in a size (nm for um) would hang gmsh for
# hours or exhaust memory on a workstation; real studies that need more can raise it.
MAX_CELLS: Final[float] = 2e7

# Growth of the target element size with distance from a refined zone (nm of size per nm of
# distance). 0.3 keeps neighbouring elements within ~30 % of each other, a common quality bound.
SIZE_GRADIENT: Final[float] = 0.3

# Half-width of the band at the front size, in front widths: X = (1 + tanh(2 d / w)) / 2 is
# within 0.25 % of its end values 1.5 w from the front.
FRONT_BAND_WIDTHS: Final[float] = 1.5

# Thickness range (nm) of the resolved sub-surface layer (issue 12, item 2): the near-surface
# region of fast axial ion transport is taken as a few atomic layers, 1-2 nm (docs/model.md 8.9).
SUBSURFACE_THICKNESS_RANGE: Final[tuple[float, float]] = (1.0, 2.0)

# Cells across the sub-surface layer the mesher aims for at least (element size = thickness / this
# unless set); 3 is the least that resolves a profile across the layer rather than one value.
SUBSURFACE_CELLS_ACROSS: Final[int] = 3

# A W rim landing this close (relative to the wire radius) to the wire's edge would create sliver
# faces and near-tangent booleans, so validate() rejects it.
_RIM_CLEARANCE: Final[float] = 0.01


@dataclass(frozen=True)
class DeviceGeometry:
    """Dimensions and mesh sizes of the device; all lengths in nm.

    The defaults are the reference device (a 40 nm wire, 300 nm free length) with mesh sizes that
    give an O(10^4)-triangle axisymmetric mesh.

    Attributes:
        dimension: ``"1d"``, ``"axisymmetric"`` or ``"3d"``.
        wire_diameter: Wire diameter d (nm).
        wire_free_length: Free wire length L (nm), from the Cu surface (z = 0) to the wire's far
            end (z = L).
        cu_contact_length: Length of wire embedded in the Cu electrode (nm); z in [-this, 0].
        cu_radius: Radius of the Cu disk (nm), axisymmetric and 3D.
        cu_thickness: Cu occupies z in [-cu_thickness, 0] (nm); must exceed cu_contact_length.
        w_apex_radius: Radius of the spherical apex of the W tip (nm).
        w_cone_half_angle: Half opening angle of the W cone (degrees), in (0, 90).
        w_height: Height of the W tip from its apex to its flat far (sink) face (nm).
        w_contact_depth: How far the apex sphere overlaps the wire's end (nm); in (0, apex radius).
        wire_mesh_size: Element size inside the wire (nm).
        contact_mesh_size: Element size at the Cu|wire and W|wire interfaces (nm).
        metal_mesh_size: Element size far from the wire in the metals (nm).
        subsurface_thickness: Thickness t_ss of the resolved sub-surface layer under the wire's
            lateral surface (nm, 1-2), or None for none (today's isotropic wire). Axisymmetric
            and 3D only: a 1D mesh has no radius, so the layer is not modelled there.
        subsurface_mesh_size: Element size in the layer (nm); None: t_ss / 3 (at least
            SUBSURFACE_CELLS_ACROSS cells across).
        cu_contact: ``"embedded"`` (today's foot in a Cu disk of cu_radius, cu_thickness) or
            ``"side"`` (3D only: the Cu is a block x in [top - cu_thickness, top], |y| <=
            cu_radius, z in [-cu_radius, 0], whose top face x = top = -a + cu_side_depth cuts
            cu_side_depth into the wire's side over z in [-cu_contact_length, 0]; its far
            (sink) face is the bottom x = top - cu_thickness).
        cu_side_depth: How far the wire's side sinks into the Cu block's top face (nm); sets
            the width of the side contact, 2 sqrt(2 a depth - depth^2).
        w_contact: ``"end"`` (today's tip on the wire's axis, apex on the end face) or
            ``"side"`` (3D only: the tip's axis along +x, its apex sphere w_contact_depth into
            the wire's side, centred w_side_offset before the wire's end).
        w_side_offset: Axial distance of a side W contact's centre from the wire's end (nm).
        contact_layer_thickness: Thickness of the metal layer meshed around each metal|wire
            interface (nm) that carries the thermal boundary conductance (docs/model.md 3.1b);
            0: no layer (perfect thermal contact).
        front_mesh_size: Element size at a prescribed composition front (nm), or None (the
            front gets the wire size). The mesh sizes do not otherwise depend on X, and a 1 nm
            tanh front sampled at 2 nm nodes moves its band offsets with the mesh.
        front_segments: The prescribed fronts, axis-aligned segments (z0, r0, z1, r1) of the
            (z, r) half-plane (nm; composition.CompositionProfile.front_segments). In 1D only
            fronts across the wire (z0 == z1) count: the others are averaged over the section.
        front_band: Distance from a front (nm) within which cells have front_mesh_size; the
            size then grows at SIZE_GRADIENT to the wire size.
    """

    dimension: str = "axisymmetric"
    wire_diameter: float = 40.0
    wire_free_length: float = 300.0
    cu_contact_length: float = 50.0
    cu_radius: float = 200.0
    cu_thickness: float = 150.0
    w_apex_radius: float = 25.0
    w_cone_half_angle: float = 15.0
    w_height: float = 250.0
    w_contact_depth: float = 5.0
    wire_mesh_size: float = 4.0
    contact_mesh_size: float = 2.0
    metal_mesh_size: float = 40.0
    subsurface_thickness: float | None = None
    subsurface_mesh_size: float | None = None
    cu_contact: str = "embedded"
    cu_side_depth: float = 2.0
    w_contact: str = "end"
    w_side_offset: float = 40.0
    contact_layer_thickness: float = 0.0
    front_mesh_size: float | None = None
    front_segments: tuple[tuple[float, float, float, float], ...] = ()
    front_band: float = 0.0

    # ----------------------------------------------------------------------------------------------
    # Derived quantities (nm, nm^2)

    @property
    def gdim(self) -> int:
        """Geometric (and topological) dimension of the mesh: 1, 2 or 3."""
        return {"1d": 1, "axisymmetric": 2, "3d": 3}[self.dimension]

    @property
    def wire_radius(self) -> float:
        """Wire radius a = d / 2 (nm)."""
        return 0.5 * self.wire_diameter

    @property
    def has_subsurface(self) -> bool:
        """True if the mesh resolves a sub-surface layer (set, and not a 1D mesh)."""
        return self.subsurface_thickness is not None and self.dimension != "1d"

    @property
    def subsurface_size(self) -> float:
        """Element size in the sub-surface layer (nm); requires subsurface_thickness."""
        if self.subsurface_mesh_size is not None:
            return self.subsurface_mesh_size
        return self.subsurface_thickness / SUBSURFACE_CELLS_ACROSS

    @property
    def w_apex_z(self) -> float:
        """Axial position of the W apex, the lowest point of the apex sphere (nm)."""
        return self.wire_free_length - self.w_contact_depth

    @property
    def w_sphere_center_z(self) -> float:
        """Axial position of the centre of the apex sphere (nm)."""
        return self.w_apex_z + self.w_apex_radius

    @property
    def w_tangent_z(self) -> float:
        """Axial position of the circle where the cone is tangent to the apex sphere (nm)."""
        return self.w_sphere_center_z - self.w_apex_radius * math.sin(self._half_angle_rad)

    @property
    def w_tangent_radius(self) -> float:
        """Radius of the circle where the cone is tangent to the apex sphere (nm)."""
        return self.w_apex_radius * math.cos(self._half_angle_rad)

    @property
    def w_far_z(self) -> float:
        """Axial position of the W tip's flat far (sink) face (nm)."""
        return self.w_apex_z + self.w_height

    @property
    def w_far_radius(self) -> float:
        """Radius of the W tip's flat far (sink) face (nm)."""
        return self.w_tip_radius_at(self.w_far_z)

    @property
    def w_contact_radius(self) -> float:
        """Radius of the W tip's cross-section in the plane of the wire's end, z = L (nm).

        Smaller than the wire radius: the W|wire interface is a disk on the wire's end face.
        Larger: the interface is the whole end face plus a band of the wire's side.
        """
        return self.w_tip_radius_at(self.wire_free_length)

    @property
    def cu_side_top(self) -> float:
        """x of a side contact's Cu top face, cu_side_depth into the wire's side (nm)."""
        return -self.wire_radius + self.cu_side_depth

    @property
    def cu_side_half_angle(self) -> float:
        """Half the angle (rad) the side contact's strip subtends at the wire's axis."""
        return math.acos(self.cu_side_top / -self.wire_radius)

    @property
    def cu_side_segment_area(self) -> float:
        """Area of the wire's cross-section inside the Cu block of a side contact (nm^2)."""
        a, theta = self.wire_radius, self.cu_side_half_angle
        return a**2 * (theta - math.sin(theta) * math.cos(theta))

    def sink_plane(self, metal: str) -> tuple[int, float]:
        """The plane of a metal's far (sink) face: (index of its normal coordinate, value, nm).

        Args:
            metal: ``"cu"`` or ``"w"``.
        """
        axial = self.gdim - 1
        if metal == "cu":
            if self.cu_contact == "side":
                return 0, self.cu_side_top - self.cu_thickness
            return axial, -self.cu_thickness
        if self.w_contact == "side":
            return 0, self.wire_radius - self.w_contact_depth + self.w_height
        return axial, self.w_far_z

    @property
    def cu_wire_area(self) -> float:
        """Analytic area of the Cu|wire interface (nm^2): embedded side plus wire foot, or the
        side contact's strip plus the part of the foot's end face inside the Cu block."""
        radius = self.wire_radius
        if self.cu_contact == "side":
            strip = 2.0 * radius * self.cu_side_half_angle * self.cu_contact_length
            return strip + self.cu_side_segment_area
        return 2.0 * math.pi * radius * self.cu_contact_length + math.pi * radius**2

    @property
    def w_wire_area(self) -> float:
        """Analytic area of the W|wire interface (the wire surface inside the W tip) (nm^2)."""
        radius = self.wire_radius
        contact_radius = self.w_contact_radius
        if contact_radius <= radius:
            return math.pi * contact_radius**2
        band_height = self.wire_free_length - self._w_tip_z_at_radius(radius)
        return math.pi * radius**2 + 2.0 * math.pi * radius * band_height

    @property
    def wire_volume(self) -> float:
        """Analytic volume of the wire cylinder, embedded part included (nm^3)."""
        return math.pi * self.wire_radius**2 * (self.wire_free_length + self.cu_contact_length)

    @property
    def cu_volume(self) -> float:
        """Analytic volume of the Cu electrode (disk minus the embedded wire, or block minus the
        wire's sunk segment) (nm^3)."""
        if self.cu_contact == "side":
            block = 2.0 * self.cu_radius**2 * self.cu_thickness
            return block - self.cu_side_segment_area * self.cu_contact_length
        return (
            math.pi * self.cu_radius**2 * self.cu_thickness
            - math.pi * self.wire_radius**2 * self.cu_contact_length
        )

    def w_tip_radius_at(self, z: float) -> float:
        """Radius of the (uncut) W tip's cross-section at axial position z.

        Args:
            z: Axial position (nm).

        Returns:
            The radius (nm); 0 below the apex.
        """
        if z <= self.w_apex_z:
            return 0.0
        if z <= self.w_tangent_z:
            offset = z - self.w_sphere_center_z
            return math.sqrt(max(self.w_apex_radius**2 - offset**2, 0.0))
        return self.w_tangent_radius + (z - self.w_tangent_z) * math.tan(self._half_angle_rad)

    def validate(self) -> None:
        """Check that the values describe a buildable device.

        Raises:
            ValueError: One line, ``"<field>: <value> ...; expected ..."``, naming the first field
                found inconsistent.
        """
        if self.dimension not in DIMENSIONS:
            raise ValueError(f"dimension: {self.dimension!r}; expected one of {DIMENSIONS}")
        for name in (
            "wire_diameter",
            "wire_free_length",
            "cu_contact_length",
            "cu_radius",
            "cu_thickness",
            "w_apex_radius",
            "w_height",
            "w_contact_depth",
            "wire_mesh_size",
            "contact_mesh_size",
            "metal_mesh_size",
        ):
            value = getattr(self, name)
            if not (isinstance(value, numbers.Real) and math.isfinite(value) and value > 0):
                raise ValueError(f"{name}: {value!r} nm; expected a finite length > 0")
        angle = self.w_cone_half_angle
        if not (isinstance(angle, numbers.Real) and math.isfinite(angle) and 0 < angle < 90):
            raise ValueError(f"w_cone_half_angle: {angle!r} deg; expected 0 < angle < 90")
        self._validate_contact_options()
        if self.dimension != "1d":  # electrodes are lumped in 1D: their shape does not matter
            if self.cu_contact == "side":
                self._validate_cu_side()
            else:
                self._validate_cu_embedded()
            if self.w_contact == "side":
                self._validate_w_side()
            else:
                self._validate_w_end()
            self._validate_layer()
        self._validate_subsurface()
        self._validate_front()
        if self.contact_mesh_size > self.wire_mesh_size:
            raise ValueError(
                f"contact_mesh_size: {self.contact_mesh_size} nm exceeds wire_mesh_size "
                f"({self.wire_mesh_size} nm); expected contact <= wire <= metal mesh size"
            )
        if self.wire_mesh_size > self.metal_mesh_size:
            raise ValueError(
                f"wire_mesh_size: {self.wire_mesh_size} nm exceeds metal_mesh_size "
                f"({self.metal_mesh_size} nm); expected contact <= wire <= metal mesh size"
            )
        if self.contact_mesh_size >= self.wire_diameter:
            raise ValueError(
                f"contact_mesh_size: {self.contact_mesh_size} nm; expected less than "
                f"wire_diameter ({self.wire_diameter} nm) so the wire is resolved across"
            )
        cells = self.estimated_cells()
        if cells > MAX_CELLS:
            raise ValueError(
                f"wire_mesh_size/metal_mesh_size: the mesh would have about {cells:.2g} cells; "
                f"expected at most {MAX_CELLS:.0e} (use larger mesh sizes or a smaller device)"
            )

    def _validate_subsurface(self) -> None:
        """Checks of the sub-surface layer: 1-2 nm thick, at least 3 cells across."""
        t = self.subsurface_thickness
        if t is None:
            if self.subsurface_mesh_size is not None:
                raise ValueError(f"subsurface_mesh_size: {self.subsurface_mesh_size!r} nm without "
                                 "subsurface_thickness; expected a layer thickness as well")
            return
        lo, hi = SUBSURFACE_THICKNESS_RANGE
        if not (isinstance(t, numbers.Real) and math.isfinite(t) and lo <= t <= hi):
            raise ValueError(f"subsurface_thickness: {t!r} nm; expected {lo:g}-{hi:g} nm (a "
                             "near-surface layer of a few atomic planes)")
        h = self.subsurface_mesh_size
        if h is not None and not (isinstance(h, numbers.Real) and math.isfinite(h)
                                  and 0 < h <= t / SUBSURFACE_CELLS_ACROSS):
            raise ValueError(f"subsurface_mesh_size: {h!r} nm; expected 0 < size <= "
                             f"subsurface_thickness / {SUBSURFACE_CELLS_ACROSS} "
                             f"({t / SUBSURFACE_CELLS_ACROSS:.6g} nm)")

    def _validate_front(self) -> None:
        """A front size needs a front to refine, and is at most the wire size."""
        h = self.front_mesh_size
        if h is None:
            return
        if not (isinstance(h, numbers.Real) and math.isfinite(h) and 0 < h <= self.wire_mesh_size):
            raise ValueError(f"front_mesh_size: {h!r} nm; expected 0 < size <= wire_mesh_size "
                             f"({self.wire_mesh_size} nm)")
        if not self.front_lines():
            raise ValueError(f"front_mesh_size: {h!r} nm, but the composition has no front on "
                             f"this {self.dimension} mesh; expected a core_shell or "
                             "axial_segment composition (1D: with a front across the wire)")

    def front_lines(self) -> tuple[tuple[float, float, float, float], ...]:
        """The front segments the mesh resolves: all of them, or in 1D those across the wire."""
        if self.dimension == "1d":
            return tuple(f for f in self.front_segments if f[0] == f[2])
        return self.front_segments

    def contact_rims_on_fronts(self) -> tuple[tuple[float, float], ...]:
        """The (z, r) points (nm) where a metal|wire interface ends on the wire's surface within
        front_band of a front (2D and 3D, contacts about the axis: the W tip on the end, the
        embedded Cu foot; a point is a circle about the axis in 3D). There a contact's current
        crosses the front, and it changes by decades over a fraction of the front width
        (docs/validation.md, mesh convergence of stage (c)); side contacts are not included."""
        if self.dimension == "1d" or self.front_mesh_size is None:
            return ()
        rims = []
        if self.w_contact == "end":
            rc, a = self.w_contact_radius, self.wire_radius
            rims.append((self.wire_free_length, rc) if rc < a else (self._w_tip_z_at_radius(a), a))
        if self.cu_contact == "embedded":
            rims.append((0.0, self.wire_radius))

        def distance(z, r, segment):
            z0, r0, z1, r1 = segment
            return math.hypot(max(z0 - z, z - z1, 0.0), max(r0 - r, r - r1, 0.0))

        return tuple(p for p in rims
                     if min(distance(*p, s) for s in self.front_lines()) <= self.front_band)

    def _validate_contact_options(self) -> None:
        """The contact kinds exist, and side contacts (not axisymmetric) are meshed in 3D."""
        for name, allowed in (("cu_contact", CU_CONTACTS), ("w_contact", W_CONTACTS)):
            value = getattr(self, name)
            if value not in allowed:
                raise ValueError(f"{name}: {value!r}; expected one of {allowed}")
            if value == "side" and self.dimension == "axisymmetric":
                raise ValueError(f"{name}: 'side' is not axisymmetric; expected dimension 3d "
                                 "(or 1d, where the contacts are lumped)")
        for name in ("cu_side_depth", "w_side_offset", "contact_layer_thickness"):
            value = getattr(self, name)
            if not (isinstance(value, numbers.Real) and math.isfinite(value) and value >= 0):
                raise ValueError(f"{name}: {value!r} nm; expected a finite length >= 0")

    def _validate_cu_side(self) -> None:
        """A side contact: the wire sinks into the block's top less than its radius, the strip
        is resolved, and the foot lies on the block."""
        a, depth = self.wire_radius, self.cu_side_depth
        if not 0 < depth < 0.5 * a:
            raise ValueError(f"cu_side_depth: {depth} nm; expected 0 < depth < half the wire "
                             f"radius ({0.5 * a:g} nm)")
        width = 2.0 * a * math.sin(self.cu_side_half_angle)
        if width < 2.0 * self.contact_mesh_size:
            raise ValueError(f"cu_side_depth: {depth} nm gives a contact strip {width:.3g} nm "
                             f"wide; expected at least 2 x contact_mesh_size "
                             f"({2 * self.contact_mesh_size:g} nm) so the strip is resolved")
        if self.cu_radius <= self.cu_contact_length + self.wire_radius:
            raise ValueError(f"cu_radius: {self.cu_radius} nm; expected more than "
                             f"cu_contact_length + wire radius "
                             f"({self.cu_contact_length + a:g} nm) so the foot lies on the block")
        if self.cu_thickness <= depth:
            raise ValueError(f"cu_thickness: {self.cu_thickness} nm; expected more than "
                             f"cu_side_depth ({depth} nm)")

    def _validate_w_side(self) -> None:
        """A side W contact: the apex dips into the wire's side, on the free wire, clear of the
        end and of the Cu."""
        a, depth, radius = self.wire_radius, self.w_contact_depth, self.w_apex_radius
        if not depth < min(radius, 0.5 * a):
            raise ValueError(f"w_contact_depth: {depth} nm; expected less than w_apex_radius "
                             f"({radius} nm) and half the wire radius ({0.5 * a:g} nm) for a "
                             "side contact")
        if self.w_height <= radius:
            raise ValueError(f"w_height: {self.w_height} nm; expected more than w_apex_radius "
                             f"({radius} nm)")
        # the apex dips into the wire over about 2 sqrt(2 R depth - depth^2) along z
        footprint = math.sqrt(2 * radius * depth - depth**2) + self.contact_mesh_size
        if not footprint <= self.w_side_offset <= self.wire_free_length - footprint:
            raise ValueError(f"w_side_offset: {self.w_side_offset} nm; expected the contact "
                             f"(half-length {footprint:.3g} nm with the contact mesh size) on "
                             f"the free wire: {footprint:.3g} <= offset <= "
                             f"{self.wire_free_length - footprint:.3g} nm")
        clearance = self.wire_free_length - self.w_side_offset - self.w_far_radius_side
        if self.cu_contact == "embedded" and clearance <= self.contact_mesh_size:
            raise ValueError(f"w_side_offset: {self.w_side_offset} nm; the tip (far radius "
                             f"{self.w_far_radius_side:.3g} nm) would reach the Cu disk; "
                             f"expected offset < {self.wire_free_length - self.w_far_radius_side - self.contact_mesh_size:.3g} nm")

    @property
    def w_far_radius_side(self) -> float:
        """Radius of a side W tip's far face (nm): the cone widened over its height."""
        flat = self.w_height - self.w_apex_radius * (1 - math.sin(self._half_angle_rad))
        return self.w_tangent_radius + max(flat, 0.0) * math.tan(self._half_angle_rad)

    def _validate_layer(self) -> None:
        """The conductance layer is thin against the wire and the side contact's depth."""
        t = self.contact_layer_thickness
        if t == 0:
            return
        limit = min(self.contact_mesh_size, 0.1 * self.wire_radius)
        if self.cu_contact == "side":
            limit = min(limit, 0.5 * self.cu_side_depth)
        if t > limit:
            raise ValueError(f"contact_layer_thickness: {t} nm; expected at most {limit:.3g} nm "
                             "(contact_mesh_size, a tenth of the wire radius, half a side "
                             "contact's depth)")

    def _validate_cu_embedded(self) -> None:
        """Checks of the Cu disk the wire's foot is embedded in (2D/3D only)."""
        if self.cu_thickness <= self.cu_contact_length:
            raise ValueError(
                f"cu_thickness: {self.cu_thickness} nm is not greater than cu_contact_length "
                f"({self.cu_contact_length} nm); expected the embedded wire to end inside the Cu"
            )
        if self.cu_radius <= self.wire_radius:
            raise ValueError(
                f"cu_radius: {self.cu_radius} nm is not greater than the wire radius "
                f"({self.wire_radius} nm); expected the Cu disk to surround the wire"
            )

    def _validate_w_end(self) -> None:
        """Checks of the W tip whose apex touches the wire's end face (2D/3D only)."""
        if self.w_contact_depth >= self.w_apex_radius:
            raise ValueError(
                f"w_contact_depth: {self.w_contact_depth} nm is not smaller than w_apex_radius "
                f"({self.w_apex_radius} nm); expected 0 < w_contact_depth < w_apex_radius"
            )
        if self.w_contact_depth >= self.wire_free_length:
            raise ValueError(
                f"w_contact_depth: {self.w_contact_depth} nm reaches the Cu surface "
                f"(wire_free_length {self.wire_free_length} nm); expected it to be smaller"
            )
        cap_height = self.w_tangent_z - self.w_apex_z
        min_height = max(cap_height, self.w_contact_depth)
        if self.w_height <= min_height:
            raise ValueError(
                f"w_height: {self.w_height} nm leaves no cone above the apex sphere / wire end; "
                f"expected w_height > {min_height:.6g} nm"
            )
        contact_radius = self.w_contact_radius
        if abs(contact_radius - self.wire_radius) <= _RIM_CLEARANCE * self.wire_radius:
            raise ValueError(
                f"w_contact_depth: {self.w_contact_depth} nm puts the W rim (radius "
                f"{contact_radius:.6g} nm) on the wire's edge (radius {self.wire_radius:.6g} nm); "
                f"expected the radii to differ by more than {_RIM_CLEARANCE:.0%}"
            )
        if contact_radius < self.contact_mesh_size:
            raise ValueError(
                f"w_contact_depth: {self.w_contact_depth} nm gives a W|wire contact radius of "
                f"{contact_radius:.6g} nm; expected at least contact_mesh_size "
                f"({self.contact_mesh_size} nm) so the contact is resolved"
            )

    def estimated_cells(self) -> float:
        """Rough cell count of the mesh from the region sizes and element sizes (no grading).

        A regular tetrahedron of edge h has volume h^3/(6 sqrt 2), a regular triangle h^2 sqrt3/4.
        """
        if self.dimension == "1d":
            return self.wire_free_length / self.contact_mesh_size + self._front_cells()
        w_volume = math.pi / 3 * self.w_far_radius**2 * self.w_height  # cone bound
        if self.dimension == "3d":
            per = 6 * math.sqrt(2)
            return per * (self.wire_volume / self.wire_mesh_size**3
                          + (self.cu_volume + w_volume) / self.metal_mesh_size**3) \
                + self._subsurface_cells() + self._front_cells()
        per = 4 / math.sqrt(3)
        wire_area = self.wire_radius * (self.wire_free_length + self.cu_contact_length)
        metal_area = self.cu_radius * self.cu_thickness + self.w_far_radius * self.w_height
        return (per * (wire_area / self.wire_mesh_size**2 + metal_area / self.metal_mesh_size**2)
                + self._subsurface_cells() + self._front_cells())

    def _subsurface_cells(self) -> float:
        """Rough cell count of the sub-surface layer and its graded band (no layer: 0): the layer
        plus the band over which the size grows back to the wire size, at the layer's size."""
        if not self.has_subsurface:
            return 0.0
        h = self.subsurface_size
        band = self.subsurface_thickness + (self.wire_mesh_size - h) / SIZE_GRADIENT / 2
        band = min(band, self.wire_radius)
        length = self.wire_free_length + self.cu_contact_length
        if self.dimension == "3d":
            shell = math.pi * (self.wire_radius**2 - (self.wire_radius - band) ** 2) * length
            return 6 * math.sqrt(2) * shell / h**3
        return 4 / math.sqrt(3) * band * length / h**2

    def _front_cells(self) -> float:
        """Rough cell count of the bands around the fronts (none: 0), at the front size: the
        band plus the graded zone over which the size grows back to the wire size, each side."""
        h = self.front_mesh_size
        if h is None:
            return 0.0
        band = 2 * self.front_band + (self.wire_mesh_size - h) / SIZE_GRADIENT
        cells = 0.0
        for z0, r0, z1, r1 in self.front_lines():
            if self.dimension == "1d":
                cells += band / h
            elif self.dimension == "3d":  # a cylinder's or an annulus's area
                area = (2 * math.pi * r0 * (z1 - z0) if r0 == r1
                        else math.pi * abs(r1**2 - r0**2))
                cells += 6 * math.sqrt(2) * band * area / h**3
            else:
                cells += 4 / math.sqrt(3) * band * math.hypot(z1 - z0, r1 - r0) / h**2
        return cells

    @property
    def _half_angle_rad(self) -> float:
        return math.radians(self.w_cone_half_angle)

    def _w_tip_z_at_radius(self, radius: float) -> float:
        """Lowest axial position where the W tip is `radius` wide (nm); inverse of the profile."""
        if radius <= self.w_tangent_radius:
            return self.w_sphere_center_z - math.sqrt(self.w_apex_radius**2 - radius**2)
        return self.w_tangent_z + (radius - self.w_tangent_radius) / math.tan(self._half_angle_rad)


@dataclass(frozen=True)
class ParticleDonor:
    """A donor crystal's contact on a rod (nm).

    Attributes:
        at: ``"top"`` (a disk on the end face z = L, centred on the axis), ``"bottom"`` (the
            same on z = 0) or ``"side"`` (axisymmetric: a ring band of the lateral surface
            centred at ``z``; a spot needs 3D, which particles do not offer).
        radius: Disk radius (end faces) or half-width of the band (side) (nm).
        z: Axial centre of a side band (nm).
        entry_sites: Serial entry channels of the contact (-); None: every site of the contact.
    """

    at: str
    radius: float
    z: float = 0.0
    entry_sites: float | None = None


@dataclass(frozen=True)
class ParticleGeometry:
    """A sphere or rod without electrodes (a nanocrystal in a bath, a wire on a heated grid),
    meshed as the ``wire`` region; all lengths in nm.

    The rod's axis is z, from z = 0 to z = length; the sphere is centred at z = 0. Axisymmetric
    (r = x >= 0, z = y) for both; ``"1d"`` for a rod only (the interval [0, length], donors on
    its end points, which stand for the whole cross-section).

    Attributes:
        dimension: ``"axisymmetric"`` or ``"1d"``.
        shape: ``"sphere"`` or ``"rod"``.
        diameter: Sphere or rod diameter (nm).
        length: Rod length (nm; unused for a sphere).
        donors: Donor contacts (rods only); none: the whole surface is the contact (bath).
        mesh_size: Element size in the particle (nm).
        contact_mesh_size: Element size at the donor contacts, or at the surface of a particle
            in a bath (nm).
    """

    dimension: str = "axisymmetric"
    shape: str = "sphere"
    diameter: float = 8.0
    length: float = 0.0
    donors: tuple[ParticleDonor, ...] = ()
    mesh_size: float = 0.4
    contact_mesh_size: float = 0.2

    @property
    def gdim(self) -> int:
        """Geometric dimension of the mesh: 1 or 2."""
        return {"1d": 1, "axisymmetric": 2}[self.dimension]

    @property
    def radius(self) -> float:
        """Radius (nm)."""
        return 0.5 * self.diameter

    @property
    def wire_diameter(self) -> float:
        """The diameter under the name the Domain reads (the 1D cross-section)."""
        return self.diameter

    @property
    def metal_mesh_size(self) -> float:
        """The largest element size (the mesher's upper bound; there is no metal)."""
        return self.mesh_size

    @property
    def volume(self) -> float:
        """Analytic volume (nm^3)."""
        if self.shape == "sphere":
            return 4.0 / 3.0 * math.pi * self.radius**3
        return math.pi * self.radius**2 * self.length

    def donor_area(self, donor: ParticleDonor) -> float:
        """Analytic contact area of ``donor`` (nm^2); in 1D the cross-section."""
        if self.dimension == "1d" or donor.at != "side":
            return math.pi * (self.radius**2 if self.dimension == "1d" else donor.radius**2)
        return 2.0 * math.pi * self.radius * 2.0 * donor.radius

    def validate(self) -> None:
        """Check that the values describe a buildable particle.

        Raises:
            ValueError: One line, ``"<field>: <value> ...; expected ..."``.
        """
        if self.dimension not in ("axisymmetric", "1d"):
            raise ValueError(f"dimension: {self.dimension!r}; expected 'axisymmetric' or '1d' "
                             "for a particle")
        if self.shape not in ("sphere", "rod"):
            raise ValueError(f"shape: {self.shape!r}; expected 'sphere' or 'rod'")
        for name in ("diameter", "mesh_size", "contact_mesh_size"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name}: {value!r} nm; expected a finite length > 0")
        if self.shape == "rod" and not self.length > 0:
            raise ValueError(f"length: {self.length!r} nm; expected a rod length > 0")
        if self.shape == "sphere" and (self.donors or self.dimension == "1d"):
            raise ValueError("shape: 'sphere'; expected a rod for donors or a 1d mesh (a sphere "
                             "is axisymmetric, in a bath)")
        if self.contact_mesh_size > self.mesh_size:
            raise ValueError(f"contact_mesh_size: {self.contact_mesh_size} nm exceeds mesh_size "
                             f"({self.mesh_size} nm); expected contact <= particle mesh size")
        if self.mesh_size >= self.radius:
            raise ValueError(f"mesh_size: {self.mesh_size} nm; expected less than the radius "
                             f"({self.radius} nm)")
        for i, donor in enumerate(self.donors):
            self._validate_donor(i, donor)
        if self.estimated_cells() > MAX_CELLS:
            raise ValueError(f"mesh_size: the mesh would have about {self.estimated_cells():.2g} "
                             f"cells; expected at most {MAX_CELLS:.0e}")

    def _validate_donor(self, i: int, donor: ParticleDonor) -> None:
        where = f"donors[{i}]"
        if donor.at not in ("top", "bottom", "side"):
            raise ValueError(f"{where}.at: {donor.at!r}; expected 'top', 'bottom' or 'side'")
        if self.dimension == "1d":
            if donor.at == "side":
                raise ValueError(f"{where}.at: 'side'; expected 'top' or 'bottom' on a 1d rod")
            return
        if not (donor.radius >= self.contact_mesh_size):
            raise ValueError(f"{where}.radius: {donor.radius} nm; expected at least "
                             f"contact_mesh_size ({self.contact_mesh_size} nm)")
        if donor.at != "side" and donor.radius >= self.radius:
            raise ValueError(f"{where}.radius: {donor.radius} nm; expected less than the rod "
                             f"radius ({self.radius} nm) on an end face")
        if donor.at == "side" and not (donor.radius < donor.z < self.length - donor.radius):
            raise ValueError(f"{where}.z: {donor.z} nm; expected the band (half-width "
                             f"{donor.radius} nm) inside the rod's length ({self.length} nm)")
        if donor.entry_sites is not None and not donor.entry_sites > 0:
            raise ValueError(f"{where}.entry_sites: {donor.entry_sites!r}; expected > 0")

    def estimated_cells(self) -> float:
        """Rough cell count (triangles of the r-z section, or 1D intervals)."""
        if self.dimension == "1d":
            return self.length / self.contact_mesh_size
        area = (math.pi * self.radius**2 / 2 if self.shape == "sphere"
                else self.radius * self.length)
        return 4 / math.sqrt(3) * area / self.mesh_size**2
