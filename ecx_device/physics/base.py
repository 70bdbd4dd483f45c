"""The interface every physics module implements, and the context the modules share."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from ecx_device.fem import MPI, dolfinx, ufl
from ecx_device.materials import Material
from ecx_device.materials.properties import MIXING_RULES, UflOps, mix
from ecx_device.mesh import Domain


@dataclass(frozen=True)
class Dirichlet:
    """Fix ``field`` to ``value`` (a dolfinx Constant, SI units) on a named facet group."""

    field: str
    facet_group: str
    value: Any


@dataclass
class Context:
    """What the modules may read: the domain, region materials, boundary data, current fields.

    Attributes:
        domain: The mesh and its named regions.
        materials: Region name -> material.
        constants: Named dolfinx Constants in SI units (e.g. ``bias`` [V], ``heat_sink_temperature``
            [K]); the stepping code changes their values in place.
        fields: Unknown name -> Function, filled in by the coupling layer.
    """

    domain: Domain
    materials: dict[str, Material]
    constants: dict[str, Any]
    fields: dict[str, dolfinx.fem.Function] = field(default_factory=dict)
    #: Exchanged fraction X (P1 on the whole mesh) and, per region, the material at X = 1.
    composition: dolfinx.fem.Function | None = None
    exchanged: dict[str, Material] = field(default_factory=dict)
    _compiled: dict[str, dict] = field(default_factory=dict, repr=False)

    @classmethod
    def create(cls, domain: Domain, materials: dict[str, Material], *, bias: float = 0.0,
               heat_sink_temperature: float = 300.0, radiation_temperature: float | None = None,
               emissivity: float = 0.0) -> Context:
        """Context with the standard boundary constants.

        Args:
            domain: Mesh and regions.
            materials: Region name -> material.
            bias: Potential of the Cu terminal against the W terminal (V).
            heat_sink_temperature: Temperature of the electrode far faces (K).
            radiation_temperature: Temperature the wire radiates to (K); default heat sink.
            emissivity: Emissivity of the wire surface (-).
        """
        mesh = domain.mesh
        c = {"bias": bias, "ground": 0.0, "heat_sink_temperature": heat_sink_temperature,
             "radiation_temperature": radiation_temperature or heat_sink_temperature,
             "emissivity": emissivity}
        constants = {k: dolfinx.fem.Constant(mesh, float(v)) for k, v in c.items()}
        return cls(domain, materials, constants)

    def temperature(self):
        """The temperature field (K), or the heat-sink temperature if heat is not solved."""
        return self.fields.get("T", self.constants["heat_sink_temperature"])

    def property(self, region: str, name: str):
        """UFL expression of a material property of ``region`` at the local temperature and, in
        a region with an exchanged phase, the local exchanged fraction (SI)."""
        value = self.materials[region](name, self.temperature(), UflOps)
        if self.composition is None or region not in self.exchanged:
            return value
        other = self.exchanged[region](name, self.temperature(), UflOps)
        return mix(value, other, self.composition, MIXING_RULES[name], UflOps)

    def evaluate(self, key: str, build) -> dict[str, float]:
        """Evaluate named scalar forms, compiling them once per context.

        Args:
            key: Cache key (e.g. the module name).
            build: Called once, returns ``{name: UFL scalar form}``; the forms must refer to the
                context's fields (not copies), so later evaluations see the current state.

        Returns:
            ``{name: value}``, summed over MPI ranks.
        """
        if key not in self._compiled:
            degree = self.quadrature_degree()
            self._compiled[key] = {n: dolfinx.fem.form(default_quadrature(f, degree))
                                   for n, f in build().items()}
        comm = self.domain.mesh.comm
        return {n: comm.allreduce(dolfinx.fem.assemble_scalar(f), op=MPI.SUM)
                for n, f in self._compiled[key].items()}

    def quadrature_degree(self) -> int:
        """:func:`residual_quadrature_degree` of the highest Lagrange degree of the context's
        fields: the degree of the residuals' integrals, which the scalar forms of
        :meth:`evaluate` share where they set none. UFL's own estimate reached 16 for the ions'
        Joule heat and 51 for a Schottky contact's current; in 3D the first took 1.1 s per
        evaluation, and the balances 14 % of a side-contact exchange run (2026-12-06). A field
        may be a Constant (a frozen unknown), which has no degree."""
        degrees = [f.function_space.ufl_element().embedded_superdegree
                   for f in self.fields.values() if hasattr(f, "function_space")]
        return residual_quadrature_degree(max(degrees, default=1))

    def regions(self) -> list[str]:
        """Regions of the mesh that have a material."""
        return [r for r in self.materials if self.domain.has_region(r)]


class PhysicsModule(Protocol):
    """What a physics module provides. Only ``unknowns`` and ``residual`` are required."""

    #: Short name used in logs and reports.
    name: str
    #: Names of the fields this module owns (one scalar Lagrange field each).
    unknowns: tuple[str, ...]

    def residual(self, ctx: Context, u: dict, v: dict) -> dict[str, ufl.Form]:
        """Weak-form contributions keyed by the test field's name (a module may add terms to
        other modules' equations, e.g. a heat source to ``T``)."""

    def dirichlet(self, ctx: Context) -> list[Dirichlet]:
        """Dirichlet conditions on the module's own fields."""

    def initial_guess(self, ctx: Context) -> dict[str, float]:
        """Uniform starting values of the module's fields (SI)."""

    def quantities(self, ctx: Context) -> dict[str, float]:
        """Scalar results, keys ending in a bracketed unit (``"current [A]"``)."""

    def derived_fields(self, ctx: Context) -> dict[str, dict[str, Any]]:
        """Cellwise output fields: name -> {region: UFL expression}."""

    def point_fields(self, ctx: Context) -> dict[str, Any]:
        """Continuous output fields: name -> UFL expression (written as P1)."""


def call_hook(module: Any, hook: str, *args, default=None):
    """Call an optional hook of a module, or return ``default`` if the module lacks it."""
    fn = getattr(module, hook, None)
    return fn(*args) if fn is not None else default


def residual_quadrature_degree(p: int) -> int:
    """The quadrature degree of every residual and scalar output for Lagrange degree ``p``:
    2 p + 2 (why: :func:`default_quadrature`)."""
    return 2 * p + 2


def default_quadrature(form, degree: int):
    """``form`` with the quadrature degree of each integral that sets neither a degree nor a
    rule fixed to ``degree``.

    UFL estimates a degree per integrand, and for the Arrhenius laws and the log-linear CdS/Cu2S
    mixing (exponentials of a P2 temperature and of X) the estimate reaches 16-18, which makes
    assembly 10-20x dearer for no accuracy: the coefficients are smooth on a cell, and 2p + 2
    integrates the polynomial part (with the axisymmetric r weight) exactly.
    """
    if not isinstance(form, ufl.Form):
        return form
    return ufl.Form([itg if {"quadrature_degree", "quadrature_rule"} & set(itg.metadata())
                     else itg.reconstruct(metadata={**itg.metadata(),
                                                    "quadrature_degree": degree})
                     for itg in form.integrals()])


def integrate(form, comm) -> float:
    """Assemble a scalar UFL form and sum it over MPI ranks."""
    local = dolfinx.fem.assemble_scalar(dolfinx.fem.form(form))
    return comm.allreduce(local, op=MPI.SUM)
