"""Diffusion tensors of the mobile species in the wire, with the resolved sub-surface layer
(issue 12, item 2; docs/model.md 8.9).

Without a layer (``Domain.subsurface_thickness`` None: 1D meshes, meshes without one) the
diffusivity of a species is its bulk scalar D_b(T, X), as before. With a layer of thickness t_ss
under the wire's lateral surface (cells whose midpoint lies at R - t_ss < r <= R; the mesh has a
line at r = R - t_ss, so the cells are exactly the layer's), the species diffuses there with

    D = D_b (a_par (I - n n) + a_perp n n)

n the outward radial unit vector (the layer's normal), a_par the enhancement along the layer
(the wire axis, and in 3D also around the circumference: both lie in the layer) and a_perp the
enhancement across it; in the core D = D_b I. The enhancements are material properties of the
wire, ``<species>_subsurface_enhancement_axial`` and ``..._normal`` (dimensionless, mixed with
the exchanged phase's values by X like every wire property), so a new species (a displaced-Cd
species ``"cd"``) needs only its two rows in the data files.

The shell criterion (parameters.md section 3, anisotropy row): Cu runs along the layer to the far
end in t_axial = L^2 / (a_par D_b) and fills the cross-section from the surface in
t_radial = R^2 / D_b; a shell needs t_axial << t_radial, i.e. a_par >> (L / R)^2.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ecx_device.device.names import Region
from ecx_device.fem import dolfinx, ufl
from ecx_device.materials import Material
from ecx_device.physics.base import Context
from ecx_device.units import MESH_UNIT

#: Bulk diffusivity property of each species that has a sub-surface layer.
BULK_DIFFUSIVITY = {"cu": "cu_ion_diffusivity", "vacancy": "vacancy_diffusivity"}

#: Smallest radius (nm) in the normal's denominator, so the expression stays finite on the axis
#: (the layer, where it is used, lies at r > R - t_ss >> this).
_AXIS_GUARD_NM = 1e-6


def enhancement_name(species: str, direction: str) -> str:
    """Property name of a species' sub-surface enhancement, direction 'axial' or 'normal'."""
    return f"{species}_subsurface_enhancement_{direction}"


def subsurface_indicator(domain) -> dolfinx.fem.Function | None:
    """DG0 indicator of the sub-surface layer (1 in its cells, 0 elsewhere), None without a layer.

    A cell is in the layer when its midpoint's radius exceeds R - t_ss (R the wire radius); the
    mesher puts a mesh line at R - t_ss, so this picks the layer's cells exactly. Built once per
    Domain (the ion problem's compiled forms hold the Function)."""
    t = domain.subsurface_thickness
    if t is None or domain.dimension == "1d":
        return None
    if getattr(domain, "_subsurface_chi", None) is None:
        inner = (domain.wire_diameter / 2 - t) / MESH_UNIT  # nm
        gdim = domain.gdim
        V0 = dolfinx.fem.functionspace(domain.mesh, ("DG", 0))
        chi = dolfinx.fem.Function(V0, name="subsurface_layer")

        def inside(x):
            rho = np.abs(x[0]) if gdim == 2 else np.hypot(x[0], x[1])
            return (rho > inner).astype(float)

        chi.interpolate(inside)  # DG0 interpolation evaluates at the cell midpoints
        domain._subsurface_chi = chi
    return domain._subsurface_chi


def _normal_projector(domain):
    """n n^T, n the outward radial unit vector: (1, 0) in r-z, (x, y, 0) / rho in 3D (UFL)."""
    x = ufl.SpatialCoordinate(domain.mesh)
    if domain.gdim == 2:
        n = ufl.as_vector([1.0, 0.0])
    else:
        rho = ufl.max_value(ufl.sqrt(x[0] ** 2 + x[1] ** 2), _AXIS_GUARD_NM)
        n = ufl.as_vector([x[0] / rho, x[1] / rho, 0.0])
    return ufl.outer(n, n)


def diffusion_tensor(ctx: Context, species: str, bulk, isotropic=0.0):
    """Diffusivity of ``species`` in the wire (m^2/s, UFL): the scalar ``bulk + isotropic``
    without a layer; with one, the tensor bulk (I + chi ((a_par - 1)(I - n n) + (a_perp - 1) n n))
    + isotropic I (module docstring), chi the layer indicator.

    Args:
        ctx: Context of the wire mesh (its Domain says whether there is a layer).
        species: Name of the species' enhancement properties ('cu', 'vacancy', later 'cd').
        bulk: Bulk diffusivity D_b (m^2/s, UFL scalar) that the layer enhances.
        isotropic: A further isotropic part (m^2/s) the layer leaves alone (e.g. Cu+'s
            vacancy-opened Cu2S-like path, which is not a surface path).
    """
    chi = subsurface_indicator(ctx.domain)
    if chi is None:
        return bulk + isotropic
    a_par = ctx.property(Region.WIRE, enhancement_name(species, "axial"))
    a_perp = ctx.property(Region.WIRE, enhancement_name(species, "normal"))
    identity = ufl.Identity(ctx.domain.gdim)
    nn = _normal_projector(ctx.domain)
    excess = (a_par - 1.0) * (identity - nn) + (a_perp - 1.0) * nn
    return bulk * (identity + chi * excess) + isotropic * identity


@dataclass(frozen=True)
class ShellCriterion:
    """The shell criterion of the layer at one temperature (module docstring); times in s.

    Attributes:
        temperature: T (K).
        axial_time: t_axial = L^2 / (a_par D_b) (s), along the layer over the wire length L.
        radial_time: t_radial = R^2 / D_b (s), across the bulk over the radius R.
        enhancement: a_par (-).
    """

    temperature: float
    axial_time: float
    radial_time: float
    enhancement: float

    @property
    def ratio(self) -> float:
        """t_axial / t_radial (-): << 1 for a shell, >~ 1 for a plug."""
        return self.axial_time / self.radial_time

    def describe(self) -> str:
        """One line for the run log."""
        verdict = "shell regime" if self.ratio < 0.1 else (
            "plug regime" if self.ratio > 1.0 else "between shell and plug")
        return (f"sub-surface layer at {self.temperature:g} K: Cu+ enhancement along the layer "
                f"{self.enhancement:.3g}, t_axial = L^2/D_ss,axial = {self.axial_time:.3g} s, "
                f"t_radial = R^2/D_bulk = {self.radial_time:.3g} s, ratio "
                f"{self.ratio:.3g} ({verdict})")


def shell_criterion(wire: Material, temperature: float, length: float, radius: float,
                    species: str = "cu") -> ShellCriterion:
    """The shell criterion of the pristine wire (X = 0) at ``temperature`` (K), for transport
    over ``length`` (m) along the layer against ``radius`` (m) across the bulk."""
    d_bulk = float(wire(BULK_DIFFUSIVITY[species], temperature))
    a_par = float(wire(enhancement_name(species, "axial"), temperature))
    return ShellCriterion(temperature, length**2 / (a_par * d_bulk), radius**2 / d_bulk, a_par)
