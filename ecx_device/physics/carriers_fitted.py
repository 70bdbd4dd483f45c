"""Electron and hole continuity with exponentially fitted edge fluxes (docs/model.md 5a.13).

The equations are those of :mod:`ecx_device.physics.carriers` (unknowns phi_n, phi_p [V], J [A/m^2],
SRH rate R [m^-3 s^-1]); only the flux is discretised differently. Plain Galerkin integrates
q mu n grad(phi) . grad(w) with a cell average of n and needs a potential step per cell below
~1 V_T; here the flux along every mesh edge is the Scharfetter-Gummel flux, the exact 1D flux
for a potential linear along the edge, and the edges are weighted as in the P1 stiffness matrix:
the edge-averaged finite elements (EAFE) of Xu & Zikatanov, Math. Comp. 68, 1429 (1999), written
in quasi-Fermi variables. For an edge E = (i, j) of cell K,

    omega_E^K = -int_K grad(lambda_i) . grad(lambda_j) dV      (m; dV the SI measure of mesh.py,
                                                                  2 pi r dr dz axisymmetric)
    L_k = ln(n / C_0) at node k (any statistics),  V_E = (V_T,i + V_T,j) / 2,
    mu_E = (mu_i + mu_j) / 2,  xi = (phi_j - phi_i) / V_E,  Delta = xi + L_j - L_i,
    G_ij = q mu_E V_E C_0 B(Delta) exp(L_j) (1 - exp(xi))          (A/m, electrons),
    B(x) = x / (exp(x) - 1)   (Bernoulli function),

and the electron residual of node i is sum_K sum_{E in K, E ∋ i} omega_E^K G_ij - int q R w_i dV.
G_ij = -G_ji, G -> q mu n (phi_i - phi_j) for small steps (the Galerkin value), and G is
J . (x_j - x_i) for the exact 1D flux, G = q mu_E V_E [B(Delta) n_j - B(-Delta) n_i], of a density
n = C_0 exp((u - phi)/V_E) with u = phi + V_E L linear along the edge (heterostructure band
offsets and densities of states inside L; a temperature field through V_T in L and in V_E).
Holes: the same with xi -> (phi_i - phi_j)/V_E, L -> ln(p/C_0) and the sign of G flipped.
With omega_E >= 0 (a Delaunay mesh: the two angles facing each edge sum to at most pi) and the
lumped recombination below, the Slotboom variables exp(-phi_n/V_T), exp(phi_p/V_T) obey a
discrete maximum principle at any potential step per cell.

Recombination is mass-lumped (vertex quadrature, Domain.volume(lumped=True), r frozen at the cell
centroid in axisymmetric form so that the lumped weights equal the edge weights' cell measures),
as in the box method, with its T- and X-dependent coefficients as P1 interpolants
(:class:`NodalStatistics`: identical at the vertex rule, cheaper to assemble). Newton updates of
psi, phi_n, phi_p are log-damped at V_T, those of phi_n, phi_p that shrink their Slotboom
variables taken in those variables (``update_scale`` of the hook). Only P1 unknowns.
Surfaces without a contact carry no current; contacts are those of
:mod:`ecx_device.physics.contacts`.

Terminal currents are reaction fluxes of the discrete equations: I_T = sum_E omega_E (G^n_E +
G^p_E)(w_i - w_j) with w = 1 on the terminal's dofs (the recombination terms of the two carriers
cancel). The heat the carriers release, for any potentials zeta_n, zeta_p (V), is the discrete
flux tested with zeta: per cell sum_{E in K} omega_E^K [G^n_E (zeta_n,i - zeta_n,j) +
G^p_E (zeta_p,i - zeta_p,j)] + int_K q R (zeta_p - zeta_n) dV (lumped), so with zeta = phi it plus
the Schottky contacts' heat equals sum V I exactly, as for the Galerkin module.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ecx_device import nodal
from ecx_device.device.names import Facet, Region
from ecx_device.fem import MPI, dolfinx, ufl
from ecx_device.mesh import Domain
from ecx_device.physics.base import Context
from ecx_device.physics.lumped import LumpedTerm
from ecx_device.physics.semiconductor_scaling import (
    CarrierStatistics,
    QuasiFermiNewtonHooks,
    SemiconductorParameters,
    statistics_for,
    update_weight_values,
)
from ecx_device.units import ELEMENTARY_CHARGE, MESH_UNIT

#: Below this |x| the Bernoulli function and its derivative use their Taylor series.
_SERIES = 1e-3


def bernoulli(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """B(x) = x / (exp(x) - 1) (-), B(0) = 1, and dB/dx = B (1 - x - B) / x (-), -1/2 at 0;
    no overflow for large |x| (B -> 0, dB/dx -> 0 for x -> inf; B -> -x, dB/dx -> -1 for
    x -> -inf). Both from one exponential: the edge fluxes need both at every edge."""
    x = np.asarray(x, dtype=float)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        b = x / np.expm1(x)
        db = b * (1.0 - x - b) / x
    small = np.abs(x) < _SERIES  # 0/0 at x = 0, cancellation near it: the series instead
    if small.any():
        xs = x[small]
        b[small] = 1.0 - xs / 2 + xs * xs / 12
        db[small] = -0.5 + xs / 6 - xs**3 / 180
    return b, db


def fitted_flux(xi, l_i, l_j) -> tuple:
    """F = B(Delta) exp(L_j) (1 - exp(xi)), Delta = xi + L_j - L_i, its partial derivatives
    (dF/dxi, dF/dL_i, dF/dL_j), and B(Delta) exp(L_j), the edge's linear conductance factor:
    the dimensionless electron edge flux (module docstring)."""
    b, db = bernoulli(xi + l_j - l_i)
    e = np.exp(l_j)
    drop = -np.expm1(xi)
    be = b * e
    return (be * drop, e * (db * drop - b * np.exp(xi)), -e * db * drop, e * (b + db) * drop,
            be)


@dataclass(frozen=True)
class EdgeMesh:
    """The edges of a rank's owned cells in a set of regions, with their P1 stiffness weights.

    Attributes:
        i, j: Local P1 dofs (owned and ghost numbering) of the two ends of each unique edge.
        weight: omega_E = sum over the rank's owned cells K of omega_E^K (m).
        cell: For each (cell, edge) pair, the local cell index.
        edge: For each pair, the index of its unique edge.
        cell_weight: For each pair, omega_E^K (m).
        reconstruct: Per owned cell, the least-squares map from the cell's edge fluxes G (A/m) to
            a current density vector (A/m^2), shape (cells, gdim, edges per cell).
        cells: The owned cells (local indices).
    """

    i: np.ndarray
    j: np.ndarray
    weight: np.ndarray
    cell: np.ndarray
    edge: np.ndarray
    cell_weight: np.ndarray
    reconstruct: np.ndarray
    cells: np.ndarray

    @classmethod
    def build(cls, domain: Domain, V, regions: tuple[str, ...]) -> EdgeMesh:
        """Edges of the owned cells of ``regions`` for the P1 space ``V``."""
        mesh = domain.mesh
        tdim = mesh.topology.dim
        owned = mesh.topology.index_map(tdim).size_local
        cells = np.concatenate([domain.region_cells(r) for r in regions if domain.has_region(r)]
                               or [np.zeros(0, np.int32)])
        cells = np.unique(cells[cells < owned]).astype(np.int32)
        dofs = V.dofmap.list[cells]
        x = mesh.geometry.x[mesh.geometry.dofmaps[0][cells]][:, :, :mesh.geometry.dim] * MESH_UNIT
        grads, measure = _barycentric(x, tdim, domain)
        pairs = [(a, b) for a in range(tdim + 1) for b in range(a + 1, tdim + 1)]
        a, b = np.array(pairs).T
        w_k = -np.einsum("ckd,ckd->ck", grads[:, a], grads[:, b]) * measure[:, None]
        ii, jj = dofs[:, a].ravel(), dofs[:, b].ravel()
        lo, hi = np.minimum(ii, jj).astype(np.int64), np.maximum(ii, jj).astype(np.int64)
        key = lo * (int(dofs.max(initial=0)) + 1) + hi
        unique, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        weight = np.bincount(inverse, weights=w_k.ravel(), minlength=len(unique))
        vectors = x[:, b] - x[:, a]  # (cells, edges, gdim), from end a to end b
        # G_ab ~ J . (x_b - x_a): least squares per cell (exact for uniform J)
        reconstruct = np.linalg.pinv(vectors) if len(cells) else np.zeros((0, x.shape[2],
                                                                           len(pairs)))
        # each edge is stored as (lo, hi); a cell's pair (a, b) may run the other way
        sign = np.where(ii == lo, 1.0, -1.0)
        return cls(lo[first].astype(np.int32), hi[first].astype(np.int32), weight,
                   np.repeat(cells, len(pairs)), inverse.ravel(), w_k.ravel(),
                   reconstruct * sign.reshape(len(cells), 1, len(pairs)), cells)


def _barycentric(x: np.ndarray, tdim: int, domain: Domain) -> tuple:
    """Gradients of the barycentric coordinates (1/m, shape (cells, tdim+1, gdim)) and each
    cell's SI measure int_K dV (m^3; per metre in planar form): A h in 1D, 2 pi r_c |K| in
    axisymmetric form (exact, r being linear), |K| in 3D."""
    edges = x[:, 1:] - x[:, :1]  # (cells, tdim, gdim)
    gram = np.einsum("cad,cbd->cab", edges, edges)
    inv = np.linalg.inv(gram) if len(x) else gram
    g = np.einsum("cab,cbd->cad", inv, edges)  # rows: grad lambda_1..tdim
    grads = np.concatenate([-g.sum(axis=1, keepdims=True), g], axis=1)
    size = np.sqrt(np.abs(np.linalg.det(gram))) / math.factorial(tdim) if len(x) else np.zeros(0)
    if domain.dimension == "1d":
        measure = domain.wire_area * size
    elif domain.dimension == "axisymmetric":
        measure = 2 * math.pi * x[:, :, 0].mean(axis=1) * size
    else:
        measure = size
    return grads, measure


#: First of the three UFL variable labels of the nodal data (any fixed number not used elsewhere).
_LABEL = 907_301

#: Components of the nodal data evaluated at every assembly (one blocked P1 interpolation).
_NODAL = ("l_n", "dln_dpsi", "dln_dphi", "l_p", "dlp_dpsi", "dlp_dphi", "vt", "mu_n", "mu_p")


class _NodalData:
    """Nodal log densities, their derivatives, V_T and mobilities at the current fields: one
    blocked P1 interpolation of UFL expressions, recomputed only when an input array changed."""

    def __init__(self, stats, u: dict, inputs: list):
        mesh = u["psi"].function_space.mesh
        # fixed labels: ufl.variable numbers its label from a global counter, which changes the
        # expression's signature, so FFCx would compile it afresh (0.3-0.7 s) for every problem
        psi, phi_n, phi_p = (ufl.classes.Variable(u[k], ufl.classes.Label(_LABEL + c))
                             for c, k in enumerate(("psi", "phi_n", "phi_p")))
        ln, lp = stats.log_n(psi, phi_n), stats.log_p(psi, phi_p)
        exprs = [ln, ufl.diff(ln, psi), ufl.diff(ln, phi_n), lp, ufl.diff(lp, psi),
                 ufl.diff(lp, phi_p), stats.vt, stats.local("mu_n"), stats.local("mu_p")]
        one = dolfinx.fem.Constant(mesh, 1.0)  # ties number-valued entries to the mesh
        space = dolfinx.fem.functionspace(mesh, ("Lagrange", 1, (len(exprs),)))
        self._f = dolfinx.fem.Function(space)
        self._expr = dolfinx.fem.Expression(ufl.as_vector([e * one for e in exprs]),
                                            space.element.interpolation_points)
        self._watch = nodal.ChangeWatch(inputs)
        self.values: dict[str, np.ndarray] = {}
        #: Incremented whenever the values are recomputed (a cache key for derived data).
        self.generation = 0

    def update(self) -> dict[str, np.ndarray]:
        if not self._watch.changed():
            return self.values
        nodal.interpolate(self._f, self._expr)
        #: The values as rows (len(_NODAL), local dofs), in the order of _NODAL.
        self.rows = self._f.x.array.reshape(-1, len(_NODAL)).T.copy()
        self.values = dict(zip(_NODAL, self.rows, strict=True))
        self.generation += 1
        return self.values


class NodalStatistics(CarrierStatistics):
    """The carrier statistics with every coefficient that depends on the temperature field or the
    composition (V_T, a_n, a_p, lifetimes, ln(N_c/C_0), ln(N_v/C_0)) replaced by its P1
    interpolant, refreshed by :meth:`refresh` when those fields change.

    For terms integrated with the vertex rule (the lumped recombination) this changes nothing -
    their integrands are evaluated at the nodes, where the interpolant equals the expression - but
    their kernels no longer evaluate the temperature laws (Matthiessen mobilities, N ~ T^1.5,
    Varshni gap) and the mixing rules at every node of every cell: measured on the stage (a)
    wire, the recombination blocks of the Jacobian cost 3-4 times less. (Those blocks have since
    given way to the nodal Jacobian of :mod:`ecx_device.physics.lumped`; the recombination's
    residual and that Jacobian's interpolation still read these interpolants.)

    Args:
        stats: The statistics to freeze.
        V: The P1 space of the unknowns.
        inputs: Functions whose change requires a refresh (temperature, composition).
    """

    def __init__(self, stats: CarrierStatistics, V, inputs: list):
        self.__dict__.update(stats.__dict__)
        self._watch = nodal.ChangeWatch(inputs)
        self._exprs: list[tuple[dolfinx.fem.Function, dolfinx.fem.Expression]] = []
        one = dolfinx.fem.Constant(V.mesh, 1.0)

        def interpolant(expr):
            if isinstance(expr, int | float):
                return expr
            f = dolfinx.fem.Function(V)
            self._exprs.append((f, dolfinx.fem.Expression(expr * one,
                                                          V.element.interpolation_points)))
            return f

        self.vt, self.a_n, self.a_p = (interpolant(stats.vt), interpolant(stats.a_n),
                                       interpolant(stats.a_p))
        self._local = {k: interpolant(stats.local(k)) for k in ("tau_n", "tau_p")}
        # ln(N/C_0) enters only the degenerate densities (and needs N_c, N_v given)
        self._log_dos = ({k: interpolant(stats.log_dos(k)) for k in ("N_c", "N_v")}
                         if stats.degenerate else {})
        self.refresh()

    def local(self, name: str):
        """The lifetimes as P1 interpolants; other parameters as the unfrozen statistics."""
        return self._local[name] if name in self._local else super().local(name)

    def log_dos(self, name: str):
        """ln(N/C_0) of ``N_c`` or ``N_v`` as a P1 interpolant (degenerate statistics)."""
        return self._log_dos[name] if name in self._log_dos else super().log_dos(name)

    def refresh(self) -> None:
        """Interpolate the coefficients again if the temperature or composition changed."""
        if not self._watch.changed():
            return
        for f, expr in self._exprs:
            nodal.interpolate(f, expr)


class EdgeFluxes:
    """The edge-flux terms of both continuity equations (the ``assembled_terms`` hook object of
    :class:`FittedDriftDiffusion`; see :mod:`ecx_device.solvers.assembled_terms`)."""

    def __init__(self, module: FittedDriftDiffusion, ctx: Context, u: dict):
        self.u = u
        V = u["phi_n"].function_space
        if V.ufl_element().embedded_superdegree != 1:
            raise ValueError("the fitted carrier fluxes need P1 unknowns (element_degree 1)")
        self.edges = EdgeMesh.build(ctx.domain, V, module.regions)
        fields = [f for f in (ctx.fields.get("T"), ctx.composition) if f is not None]
        #: The Functions the edge terms depend on (unknowns, temperature, composition).
        self.inputs = [u["psi"], u["phi_n"], u["phi_p"], *fields]
        self.nodal = _NodalData(module.stats, u, self.inputs)
        #: Statistics of the lumped terms (UFL), refreshed by :meth:`prepare`.
        self.lumped = NodalStatistics(module.stats, V, fields)
        self.C0 = module.scaling.density
        self.scale = module.scaling.continuity_factor(ctx.domain)
        e = self.edges
        rows = np.concatenate([e.i, e.i, e.j, e.j])
        cols = np.concatenate([e.i, e.j, e.i, e.j])
        self.pattern = [(f, c, rows, cols) for f in ("phi_n", "phi_p") for c in ("psi", f)]
        # Newton updates of the potentials log-damped at the scale of V_T, those of phi_n, phi_p
        # also stepped in the Slotboom variables exp(-phi_n/V_T), exp(phi_p/V_T) (assembled_terms)
        vt = module.scaling.thermal_voltage
        self.update_scale = {"psi": vt, "phi_n": (vt, -1), "phi_p": (vt, 1)}
        self._cache: tuple[int, dict] = (-1, {})

    def prepare(self) -> None:
        """Refresh the nodal coefficients of the lumped UFL terms (hook: called before every
        assembly)."""
        self.lumped.refresh()

    def fluxes(self) -> dict:
        """Edge currents G^n, G^p (A/m, from end i to end j) at the current fields, the edges'
        linear conductances (A/(V m)) and dG/d(psi_i, psi_j, phi_i, phi_j); computed once per
        state (the residual and the Jacobian of one Newton iteration share them)."""
        self.nodal.update()
        if self._cache[0] != self.nodal.generation:
            # a wild Newton iterate may overflow: its inf/NaN fails the solve (newton.py), which
            # the bias continuation retries with a smaller step
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                self._cache = (self.nodal.generation, self._fluxes())
        return self._cache[1]

    def _fluxes(self) -> dict:
        e = self.edges
        # the nodal data at both ends of every edge, gathered once: rows in the order of _NODAL
        at_i, at_j = self.nodal.rows[:, e.i], self.nodal.rows[:, e.j]
        row = _NODAL.index
        vt = 0.5 * (at_i[row("vt")] + at_j[row("vt")])
        out = {}
        for c, sign in (("n", 1.0), ("p", -1.0)):
            phi = self.u[f"phi_{c}"].x.array
            mu = row(f"mu_{c}")
            k = (0.5 * ELEMENTARY_CHARGE * self.C0) * (at_i[mu] + at_j[mu])
            xi = sign * (phi[e.j] - phi[e.i]) / vt
            F, F_xi, F_li, F_lj, conductance = fitted_flux(xi, at_i[row(f"l_{c}")],
                                                           at_j[row(f"l_{c}")])
            s = sign * k * vt
            out[c] = s * F
            out[f"g_{c}"] = k * conductance
            dpsi, dphi = row(f"dl{c}_dpsi"), row(f"dl{c}_dphi")
            F_xi = (sign / vt) * F_xi
            out[f"d{c}"] = (s * F_li * at_i[dpsi], s * F_lj * at_j[dpsi],
                            s * (F_li * at_i[dphi] - F_xi), s * (F_lj * at_j[dphi] + F_xi))
        return out

    def residual(self) -> dict[str, np.ndarray]:
        """Scaled edge-flux parts of the phi_n and phi_p residuals (local dof arrays)."""
        e = self.edges
        g = self.fluxes()
        n = len(self.u["phi_n"].x.array)
        out = {}
        for c in ("n", "p"):
            # an overflowed flux of a wild iterate (fluxes()) gives inf - inf at its nodes: the
            # NaN fails the solve, which is retried with a smaller step; no warning needed
            with np.errstate(over="ignore", invalid="ignore"):
                flow = self.scale * e.weight * g[c]
                out[f"phi_{c}"] = (np.bincount(e.i, flow, minlength=n)
                                   - np.bincount(e.j, flow, minlength=n))
        return out

    def jacobian(self) -> list[np.ndarray]:
        """Values of :attr:`pattern`: rows (i, i, j, j) x columns (i, j, i, j) of each edge, for
        the blocks (phi_n, psi), (phi_n, phi_n), (phi_p, psi), (phi_p, phi_p)."""
        w = self.scale * self.edges.weight
        g = self.fluxes()
        out = []
        with np.errstate(over="ignore", invalid="ignore"):  # a wild iterate, as in residual()
            for c in ("n", "p"):
                d_psi_i, d_psi_j, d_phi_i, d_phi_j = g[f"d{c}"]
                for di, dj in ((d_psi_i, d_psi_j), (d_phi_i, d_phi_j)):
                    out.append(np.concatenate([w * di, w * dj, -w * di, -w * dj]))
        return out


class FittedDriftDiffusion(QuasiFermiNewtonHooks):
    """Electron and hole continuity for ``phi_n`` and ``phi_p`` (V) with Scharfetter-Gummel /
    EAFE edge fluxes and lumped SRH recombination (module docstring). Same interface as
    :class:`ecx_device.physics.carriers.DriftDiffusion`; needs the ``psi`` unknown and P1.

    Args:
        params: Semiconductor data (mobilities, lifetimes, n_i, trap level).
        regions: Cell regions filled by this semiconductor.
        terminals: Facet groups reported as terminals by :meth:`quantities` (anode first).
    """

    name = "drift_diffusion"
    unknowns = ("phi_n", "phi_p")

    def __init__(self, params: SemiconductorParameters,
                 regions: tuple[str, ...] = (Region.WIRE,),
                 terminals: tuple[str, str] = (Facet.CU_SINK, Facet.W_SINK)):
        self.params, self.regions, self.terminals = params, tuple(regions), tuple(terminals)
        self.stats = statistics_for(params)
        self.scaling = self.stats.scaling
        self._terms: EdgeFluxes | None = None
        self._srh_term: LumpedTerm | None = None  # the lumped recombination (residual())
        self._outputs: dict[str, dolfinx.fem.Function] = {}
        self._heat_forms: dict = {}
        self._terminal_dofs: dict[str, np.ndarray] = {}
        #: The carriers' transport energy (Peltier heat, :class:`~ecx_device.physics.carriers.
        #: TransportEnergy`); None: Joule + recombination heat only (zeta = phi).
        self.energy = None

    # -- physics -----------------------------------------------------------------------------
    def recombination(self, fields: dict):
        """SRH net recombination rate R (m^-3 s^-1, UFL)."""
        f = fields
        return self.scaling.density * self.stats.srh(f["psi"], f["phi_n"], f["phi_p"])

    def residual(self, ctx: Context, u: dict, v: dict) -> dict:
        """The lumped recombination terms (UFL): their residual, and the cell sparsity of the
        Jacobian blocks (phi, psi) and (phi, phi) that the edge terms need. The edge fluxes and
        the recombination's Jacobian (diagonal under the vertex rule: nodal derivatives,
        :mod:`ecx_device.physics.lumped`) come from :meth:`assembled_terms`."""
        if "psi" not in u:
            raise ValueError("FittedDriftDiffusion needs the 'psi' unknown (enable Poisson)")
        d, sc = ctx.domain, self.scaling
        self._terms = EdgeFluxes(self, ctx, u)
        if self.energy is not None:
            self.energy.bind(ctx, u)
        r = self._terms.lumped.srh(u["psi"], u["phi_n"], u["phi_p"]) * sc.density / sc.rate
        vol = sc.reference_volume(d)
        self._srh_term = LumpedTerm(d, r / vol, {"phi_n": -1.0, "phi_p": 1.0}, u, v,
                                    self.regions)
        return self._srh_term.form

    def assembled_terms(self, ctx: Context) -> list:
        """The edge-flux terms and the lumped recombination's nodal Jacobian (hook of
        :class:`ecx_device.solvers.newton.CoupledProblem`)."""
        return [self._terms, self._srh_term]

    def update_weights(self, ctx: Context) -> dict:
        """Weights of the phi_n, phi_p updates in Newton's update test (-): those of
        :func:`~ecx_device.physics.semiconductor_scaling.update_weights`, as callables on the
        nodal log densities the edge fluxes hold (no interpolation of their own)."""
        data = self._terms.nodal
        return {f"phi_{c}": (lambda c=c: update_weight_values(data.update()[f"l_{c}"]))
                for c in "np"}

    def initial_guess(self, ctx: Context) -> dict[str, float]:
        """Thermal equilibrium with the grounded terminal: both quasi-Fermi potentials 0 V."""
        return {"phi_n": 0.0, "phi_p": 0.0}

    # -- heat -------------------------------------------------------------------------------
    def _nodal(self, ctx: Context, zeta) -> np.ndarray:
        """Values of a potential (V; P1 Function on this mesh, or UFL) at the P1 dofs."""
        V = ctx.fields["phi_n"].function_space
        if isinstance(zeta, dolfinx.fem.Function) and _same_p1(zeta.function_space, V):
            return zeta.x.array
        key = ("nodal", id(zeta))
        if key not in self._heat_forms:
            f = dolfinx.fem.Function(V)
            expr = dolfinx.fem.Expression(zeta * dolfinx.fem.Constant(V.mesh, 1.0),
                                          V.element.interpolation_points)
            self._heat_forms[key] = (f, expr, zeta)
        f, expr, _ = self._heat_forms[key]
        nodal.interpolate(f, expr)
        return f.x.array

    def cell_heat(self, ctx: Context, zeta_n, zeta_p) -> np.ndarray:
        """Heat released per cell (W; local cell indices, owned cells, 0 elsewhere) for the
        potentials ``zeta_n``, ``zeta_p`` (V, Functions or UFL): the discrete fluxes tested with
        zeta (module docstring). With zeta = phi it is the Joule plus recombination heat; the
        cells' sum plus the Schottky contacts' heat equals sum V I to round-off."""
        t, e = self._terms, self._terms.edges
        g = t.fluxes()
        zn, zp = self._nodal(ctx, zeta_n), self._nodal(ctx, zeta_p)
        per_pair = e.cell_weight * (g["n"][e.edge] * (zn[e.i] - zn[e.j])[e.edge]
                                    + g["p"][e.edge] * (zp[e.i] - zp[e.j])[e.edge])
        mesh = ctx.domain.mesh
        tdim = mesh.topology.dim
        imap = mesh.topology.index_map(tdim)
        heat = np.bincount(e.cell, per_pair, minlength=imap.size_local + imap.num_ghosts)
        key = ("recombination", id(zeta_n), id(zeta_p))
        if key not in self._heat_forms:
            W0 = dolfinx.fem.functionspace(mesh, ("DG", 0))
            w = ufl.TestFunction(W0)
            form = self._lumped_recombination(ctx, (zeta_p - zeta_n) * w)
            self._heat_forms[key] = (dolfinx.fem.form(form), W0, zeta_n, zeta_p)
        form, W0, _, _ = self._heat_forms[key]
        vec = dolfinx.fem.assemble_vector(form)
        cells = e.cells
        heat[cells] += vec.array[W0.dofmap.list[cells, 0]]
        return heat

    def terminal_heat(self, ctx: Context, zeta_n, zeta_p, facet_group: str) -> float:
        """Heat released at an ohmic (Dirichlet) terminal for the potentials ``zeta_n``,
        ``zeta_p`` (W, summed over ranks): -sum over the terminal's dofs i of
        r_n,i (zeta_n,i - V) + r_p,i (zeta_p,i - V), r the rows of the discrete equations (edge
        fluxes and lumped recombination, SI) - the reaction fluxes into the device. With
        :meth:`cell_heat` of the same zeta the cells' sum plus these terminal heats (and the
        Schottky contacts' own) is sum V I exactly; with zeta = phi = V it is 0."""
        if facet_group not in self._terminal_dofs:
            terminal = self._terminal_weight(ctx, facet_group) > 0
            terminal[ctx.fields["phi_n"].function_space.dofmap.index_map.size_local:] = False
            self._terminal_dofs[facet_group] = terminal  # each dof once, on its owner
        terminal = self._terminal_dofs[facet_group]
        rows = self._reaction_rows(ctx)
        potential = float(ctx.constants[self._terminal_of(facet_group)].value)
        total = 0.0
        for c, zeta in (("n", zeta_n), ("p", zeta_p)):
            gap = self._nodal(ctx, zeta) - potential
            total -= float(np.sum((rows[c] * gap)[terminal]))
        return ctx.domain.mesh.comm.allreduce(total, op=MPI.SUM)

    def _reaction_rows(self, ctx: Context) -> dict[str, np.ndarray]:
        """The rows r_n, r_p (A; local dofs, ghost contributions added to their owners) of the
        discrete electron and hole equations at the current state: edge fluxes and lumped
        recombination. Computed once per state: every terminal's heat reads them."""
        if "reaction" not in self._heat_forms:
            w = ufl.TestFunction(ctx.fields["phi_n"].function_space)
            form = dolfinx.fem.form(self._lumped_recombination(ctx, w))
            watch = nodal.ChangeWatch.of(self.recombination(ctx.fields), *self._terms.inputs,
                                         comm=ctx.domain.mesh.comm)
            self._heat_forms["reaction"] = (form, watch, {})
        form, watch, rows = self._heat_forms["reaction"]
        if watch.changed():
            index_map = ctx.fields["phi_n"].function_space.dofmap.index_map
            vec = dolfinx.fem.assemble_vector(form)
            vec.scatter_reverse(dolfinx.la.InsertMode.add)
            edge = self._terms.residual()  # scaled, ghost rows not yet added to their owners
            for c, sign in (("n", -1.0), ("p", 1.0)):
                summed = dolfinx.la.vector(index_map)
                summed.array[:] = edge[f"phi_{c}"] / self._terms.scale
                summed.scatter_reverse(dolfinx.la.InsertMode.add)
                rows[c] = summed.array + sign * vec.array
        return rows

    def _terminal_of(self, facet_group: str) -> str:
        """The context constant of a terminal: ``bias`` for the anode, ``ground`` otherwise."""
        return "bias" if facet_group == self.terminals[0] else "ground"

    # -- results -------------------------------------------------------------------------------
    def _terminal_weight(self, ctx: Context, facet_group: str) -> np.ndarray:
        """w = 1 on the terminal's P1 dofs, 0 elsewhere (local array)."""
        V = ctx.fields["phi_n"].function_space
        w = np.zeros(len(ctx.fields["phi_n"].x.array))
        w[dolfinx.fem.locate_dofs_topological(V, ctx.domain.mesh.topology.dim - 1,
                                              ctx.domain.facet_entities(facet_group))] = 1.0
        return w

    def _recombination_forms(self, ctx: Context) -> dict:
        """Lumped recombination current (A) over the regions and at each terminal's dofs."""
        V = ctx.fields["phi_n"].function_space
        out = {"recombination": self._lumped_recombination(ctx, 1.0)}
        for label, terminal in zip(("anode", "cathode"), self.terminals, strict=True):
            w = dolfinx.fem.Function(V)
            w.x.array[:] = self._terminal_weight(ctx, terminal)
            out[f"r_{label}"] = self._lumped_recombination(ctx, w)
        return out

    def _lumped_recombination(self, ctx: Context, weight):
        """UFL: the recombination current q R (A/m^3) times ``weight`` over the regions, with
        the nodal (lumped) quadrature of the discrete equations' recombination rows."""
        return ctx.domain.volume(ELEMENTARY_CHARGE * self.recombination(ctx.fields) * weight,
                                 *self.regions, lumped=True)

    def quantities(self, ctx: Context) -> dict[str, float]:
        """As :meth:`DriftDiffusion.quantities`: anode and cathode currents (A, into the device,
        reaction fluxes of the discrete equations), their mismatch, the current resolution (A:
        eps max|phi| times the terminals' edge conductance), the recombination current (A) and
        the carrier heat (W, :meth:`cell_heat` with the zeta of :meth:`heat_potentials`) and
        the heat released at each ohmic terminal (W, :meth:`terminal_heat`)."""
        f, e, comm = ctx.fields, self._terms.edges, ctx.domain.mesh.comm
        g = self._terms.fluxes()
        rec = ctx.evaluate(f"{self.name}:fitted:{self.terminals}",
                           lambda: self._recombination_forms(ctx))
        local = {}
        for label, terminal in zip(("anode", "cathode"), self.terminals, strict=True):
            dw = self._terminal_weight(ctx, terminal)
            dw = dw[e.i] - dw[e.j]
            local[f"i_{label}"] = float(np.sum(e.weight * (g["n"] + g["p"]) * dw))
            local[f"g_{label}"] = float(np.sum(e.weight * (g["g_n"] + g["g_p"]) * dw * dw))
        zn, zp = self.heat_potentials(ctx)
        local["heat"] = float(self.cell_heat(ctx, zn, zp).sum())
        total = {k: comm.allreduce(v, op=MPI.SUM) for k, v in local.items()}
        # the recombination terms of the two carriers cancel in the terminal's reaction flux
        i_a, i_c = total["i_anode"], total["i_cathode"]
        phi_max = comm.allreduce(max(np.abs(f[k].x.array).max(initial=0.0)
                                     for k in ("phi_n", "phi_p")), op=MPI.MAX)
        scale = max(abs(i_a), abs(i_c), np.finfo(float).tiny)
        self._update_outputs(ctx, g)
        contacts = {f"{facet}_contact_heat [W]": self.terminal_heat(ctx, zn, zp, facet)
                    for facet in self.strong_contacts()}
        return {"current [A]": i_a, "cathode_current [A]": -i_c,
                "current_mismatch [-]": float(abs(i_a + i_c) / scale),
                "current_resolution [A]": float(np.finfo(float).eps * phi_max
                                                * (total["g_anode"] + total["g_cathode"])),
                "recombination_current [A]": rec["recombination"],
                "carrier_heat [W]": total["heat"], **contacts}

    def heat_potentials(self, ctx: Context) -> tuple:
        """(zeta_n, zeta_p) of the heat: the transport-energy potentials of the current state
        (refreshed here), or phi_n, phi_p without :attr:`energy`."""
        if self.energy is None:
            return ctx.fields["phi_n"], ctx.fields["phi_p"]
        self.energy.update(ctx)
        return self.energy.potentials(ctx.fields)

    def strong_contacts(self) -> list[str]:
        """Facet groups of the ohmic (Dirichlet) terminals whose heat :meth:`terminal_heat`
        gives (with zeta = phi they release none)."""
        return list(self.energy.strong_contacts) if self.energy is not None else []

    def _output(self, ctx: Context, name: str, shape: tuple = ()) -> dolfinx.fem.Function:
        if name not in self._outputs:
            W = dolfinx.fem.functionspace(ctx.domain.mesh, ("DG", 0, shape) if shape
                                          else ("DG", 0))
            self._outputs[name] = dolfinx.fem.Function(W, name=name)
        return self._outputs[name]

    def _update_outputs(self, ctx: Context, g: dict) -> None:
        """Cellwise current densities (least squares from the cell's edge fluxes) and heat
        density of the current state into the DG0 output Functions."""
        e = self._terms.edges
        gdim = ctx.domain.mesh.geometry.dim
        per_cell = e.reconstruct.shape[2]
        for c in ("n", "p"):
            out = self._output(ctx, c, (gdim,))
            dofs = out.function_space.dofmap.list[e.cells, 0]
            flux = g[c][e.edge].reshape(len(e.cells), per_cell)
            out.x.array.reshape(-1, gdim)[dofs] = np.einsum("cdk,ck->cd", e.reconstruct, flux)
            out.x.scatter_forward()
        heat = self._output(ctx, "heat")
        volume = self._output(ctx, "volume")
        if not volume.x.array.any():
            W0 = volume.function_space
            vec = dolfinx.fem.assemble_vector(dolfinx.fem.form(
                ctx.domain.volume(ufl.TestFunction(W0), *self.regions)))
            volume.x.array[:] = np.where(vec.array > 0, vec.array, 1.0)
        f = ctx.fields
        dofs = heat.function_space.dofmap.list[e.cells, 0]
        heat.x.array[dofs] = (self.cell_heat(ctx, f["phi_n"], f["phi_p"])[e.cells]
                              / volume.x.array[dofs])
        heat.x.scatter_forward()

    def derived_fields(self, ctx: Context) -> dict[str, dict]:
        """Electron and hole current densities (A/m^2; per cell, least squares from the edge
        fluxes) and the carrier heat (W/m^3, :meth:`cell_heat` over the cell volume), as of the
        last :meth:`quantities` call; the SRH rate (m^-3 s^-1)."""
        gdim = ctx.domain.mesh.geometry.dim
        jn, jp = self._output(ctx, "n", (gdim,)), self._output(ctx, "p", (gdim,))
        rec = self.recombination(ctx.fields)
        return {"electron_current_density [A/m^2]": {r: jn for r in self.regions},
                "hole_current_density [A/m^2]": {r: jp for r in self.regions},
                "current_density [A/m^2]": {r: jn + jp for r in self.regions},
                "srh_rate [m^-3 s^-1]": {r: rec for r in self.regions},
                "carrier_heat [W/m^3]": {r: self._output(ctx, "heat") for r in self.regions}}


def _same_p1(W, V) -> bool:
    """True if the spaces share mesh and P1 dof layout (arrays index the same nodes)."""
    return (W.mesh is V.mesh and W.ufl_element().embedded_superdegree == 1
            and W.dofmap.index_map_bs == 1 and len(W.element.value_shape) == 0
            and np.array_equal(W.dofmap.list, V.dofmap.list))
