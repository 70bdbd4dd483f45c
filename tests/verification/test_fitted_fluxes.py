"""Exponentially fitted carrier fluxes (physics/carriers_fitted.py, docs/model.md 5a.13).

1. Exact discrete solution in 1D. On a uniform interval the fitted module with the lumped
   Poisson charge is the classical Scharfetter-Gummel box scheme. The test writes that scheme
   again, independently, in the density form of the textbooks (Selberherr, Analysis and Simulation
   of Semiconductor Devices, 1984, ch. 6):

       J_n,k+1/2 = q mu_n V_T / h [n_k+1 B(d) - n_k B(-d)],  J_p,k+1/2 = q mu_p V_T / h
       [p_k B(d) - p_k+1 B(-d)],   d = (psi_k+1 - psi_k) / V_T,   B(x) = x / (e^x - 1)
       (evaluated in the equivalent Slotboom form, n = n_i e^(psi/V_T) e^(-phi_n/V_T)),
       J_n,k+1/2 - J_n,k-1/2 = q R_k m_k,   J_p,k+1/2 - J_p,k-1/2 = -q R_k m_k,
       eps (2 psi_k - psi_k-1 - psi_k+1) / h = q [(p_k - n_k) m_k + int N lambda_k],

   with the node lengths m_k (h, h/2 at the ends), the nodal SRH rate, phi_n = phi_p = V at
   the ohmic contacts and psi imposed by the same symmetric Nitsche terms as contacts.py
   (penalty 20/h), solves it by Newton with a finite-difference Jacobian (numpy), and compares
   potentials and terminal currents: an n-type resistor and the silicon p-n diode of
   test_pn_diode.py at forward bias.
2. A 2D axisymmetric abrupt silicon diode (1e18 cm^-3 each side) whose junction has a potential
   step of more than 20 V_T per cell on the coarsest mesh stays monotone: the quasi-Fermi
   potentials stay between the contact potentials and vary monotonically along the axis (the
   discrete maximum principle of the Slotboom variables), and its current converges under
   uniform refinement.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import box_domain
from test_pn_diode import LENGTH, MU_N, MU_P, N_A, N_D, N_I, silicon_diode

from ecx_device.device.names import Facet, Region
from ecx_device.fem import MPI, dolfinx, ufl
from ecx_device.mesh import Domain
from ecx_device.physics.base import Context
from ecx_device.physics.carriers_fitted import FittedDriftDiffusion
from ecx_device.physics.contacts import OhmicContact
from ecx_device.physics.poisson import Poisson
from ecx_device.physics.semiconductor_scaling import SemiconductorParameters
from ecx_device.solvers.continuation import continue_bias
from ecx_device.solvers.newton import CoupledProblem
from ecx_device.units import BOLTZMANN, VACUUM_PERMITTIVITY
from ecx_device.units import ELEMENTARY_CHARGE as Q

SOLVER = {"snes_rtol": 0.0}
VT = BOLTZMANN * 300.0 / Q
EPS = 11.7 * VACUUM_PERMITTIVITY


def _bernoulli(x):
    x = np.asarray(x, float)
    out = np.ones_like(x)
    big = np.abs(x) > 1e-8
    out[big] = x[big] / np.expm1(x[big])
    return out


def _fitted_1d(par: SemiconductorParameters, nodes: int, biases) -> tuple:
    d = box_domain(nodes - 1, "1d", LENGTH / 1e-9)
    ctx = Context.create(d, {})
    modules = [Poisson(par, lumped=True), FittedDriftDiffusion(par),
               OhmicContact(par, Facet.CU_SINK), OhmicContact(par, Facet.W_SINK)]
    prob = CoupledProblem(ctx, modules, degree=1, petsc_options=SOLVER)
    assert prob.solve().converged
    order = np.argsort(prob.u["psi"].function_space.tabulate_dof_coordinates()[:, 0])
    out = []
    for V in biases:
        continue_bias(prob, V, max_step=0.05, min_step=1e-3)
        q = prob.quantities()
        out.append(({k: prob.u[k].x.array[order].copy() for k in ("psi", "phi_n", "phi_p")},
                    q["current [A]"] / d.wire_area, q["cathode_current [A]"] / d.wire_area))
    return out


class BoxScheme:
    """The 1D Scharfetter-Gummel box scheme in (psi, phi_n, phi_p), written from the textbook
    (module docstring); SI units, per unit area."""

    def __init__(self, nodes: int, net_cells: np.ndarray, tau: float, mu_n: float, mu_p: float):
        self.n = nodes
        self.h = LENGTH / (nodes - 1)
        self.mu_n, self.mu_p, self.tau = mu_n, mu_p, tau
        self.m = np.full(nodes, self.h)
        self.m[[0, -1]] = self.h / 2
        self.dop = np.zeros(nodes)  # int N lambda_k dx for cellwise-constant doping
        self.dop[:-1] += net_cells * self.h / 2
        self.dop[1:] += net_cells * self.h / 2
        self.g = [VT * math.asinh(net_cells[0] / (2 * N_I)),
                  VT * math.asinh(net_cells[-1] / (2 * N_I))]

    def residual(self, u: np.ndarray, bias: float) -> np.ndarray:
        n_, h = self.n, self.h
        psi, fn, fp = u[:n_], u[n_:2 * n_], u[2 * n_:]
        n = N_I * np.exp((psi - fn) / VT)
        p = N_I * np.exp((fp - psi) / VT)
        R = (n * p - N_I**2) / (self.tau * (n + N_I) + self.tau * (p + N_I))
        d = np.diff(psi) / VT
        # the Slotboom form of the same fluxes, n_k+1 B(d) - n_k B(-d) = n_i B(d)
        # exp(psi_k+1/V_T) [exp(-phi_k+1/V_T) - exp(-phi_k/V_T)]: the density form loses the
        # small current of a majority carrier to cancellation (1e-8 of its drift part here)
        jn = Q * self.mu_n * VT / h * N_I * _bernoulli(d) * np.exp((psi[1:] - fn[:-1]) / VT) \
            * np.expm1(-np.diff(fn) / VT)
        jp = Q * self.mu_p * VT / h * N_I * _bernoulli(d) * np.exp((fp[:-1] - psi[:-1]) / VT) \
            * -np.expm1(np.diff(fp) / VT)
        rn = -Q * R * self.m
        rn[:-1] += jn
        rn[1:] -= jn
        rp = Q * R * self.m
        rp[:-1] += jp
        rp[1:] -= jp
        flux = EPS * np.diff(psi) / h
        rpsi = -Q * ((p - n) * self.m + self.dop)
        rpsi[:-1] -= flux
        rpsi[1:] += flux
        gamma = 20.0
        for k, nb, g in ((0, 1, bias + self.g[0]), (n_ - 1, n_ - 2, self.g[1])):
            dpsi_dn = (psi[k] - psi[nb]) / h  # outward normal derivative of P1 psi
            gap = psi[k] - g
            rpsi[k] += -EPS * dpsi_dn - EPS / h * gap + gamma * EPS / h * gap
            rpsi[nb] += EPS / h * gap
        rn[0], rn[-1] = fn[0] - bias, fn[-1]
        rp[0], rp[-1] = fp[0] - bias, fp[-1]
        self.current = (jn[0] + jp[0], jn[-1] + jp[-1])
        return np.concatenate([rpsi, rn, rp])

    def solve(self, u: np.ndarray, bias: float) -> np.ndarray:
        """Newton with a finite-difference Jacobian, rows scaled to O(1)."""
        u = u.copy()
        for _ in range(30):
            f = self.residual(u, bias)
            jac = np.empty((len(u), len(u)))
            for k in range(len(u)):
                du = 1e-7 * max(1.0, abs(u[k]))
                up = u.copy()
                up[k] += du
                jac[:, k] = (self.residual(up, bias) - f) / du
            scale = np.abs(jac).max(axis=1)
            step = np.linalg.solve(jac / scale[:, None], f / scale)
            u -= step
            if np.abs(step).max() < 1e-14:
                break
        self.residual(u, bias)
        return u


def _cells(nodes: int, net) -> np.ndarray:
    h = LENGTH / (nodes - 1)
    return np.array([net((k + 0.5) * h) for k in range(nodes - 1)])


@pytest.mark.parametrize("device", ["resistor", "pn"])
def test_1d_against_exact_discrete_scharfetter_gummel(device):
    nodes = 101 if device == "resistor" else 201
    if device == "resistor":
        par = SemiconductorParameters(eps_r=11.7, mu_n=MU_N, mu_p=MU_P, tau_n=1e-7, tau_p=1e-7,
                                      n_i=N_I, donors=N_D)
        net, biases, tau = (lambda x: N_D), (0.1,), 1e-7
    else:
        par = silicon_diode(1e-7)
        net, biases, tau = (lambda x: N_D if x >= LENGTH / 2 else -N_A), (0.3, 0.6), 1e-7
    fe = _fitted_1d(par, nodes, biases)
    ref = BoxScheme(nodes, _cells(nodes, net), tau, MU_N, MU_P)
    for V, (u, j_anode, j_cathode) in zip(biases, fe, strict=True):
        guess = np.concatenate([u["psi"], u["phi_n"], u["phi_p"]])
        exact = ref.solve(guess, V)
        err = np.abs(exact - guess).max()
        j_ref, j_ref_cathode = ref.current
        print(f"\n{device} at {V} V: max |u_FE - u_SG| = {err:.2e} V, J_FE = {j_anode:.10e}, "
              f"J_SG = {j_ref:.10e} A/m^2 (rel. {j_anode / j_ref - 1:+.2e}), cathode "
              f"{j_cathode / j_ref_cathode - 1:+.2e}")
        assert err < 1e-9
        assert j_anode == pytest.approx(j_ref, rel=1e-8)
        assert j_cathode == pytest.approx(j_ref_cathode, rel=1e-8)


# -- 2D axisymmetric diode at > 20 V_T per cell ---------------------------------------------------
HEAVY = 1e24  # m^-3 each side: depletion width 50 nm, peak field 4e7 V/m
RADIUS_NM, LENGTH_NM = 20.0, 1000.0


def _cylinder(nz: int) -> Domain:
    """Axisymmetric r-z rectangle, 2 cells across the radius: cu_sink at z = 0, w_sink at
    z = L, the mantle and the axis insulating."""
    mesh = dolfinx.mesh.create_rectangle(MPI.COMM_WORLD, [[0.0, 0.0], [RADIUS_NM, LENGTH_NM]],
                                         [2, nz])
    return _tagged(mesh, LENGTH_NM, "axisymmetric")


def _heavy_diode() -> SemiconductorParameters:
    z_j = LENGTH_NM * 1e-9 / 2
    return SemiconductorParameters(
        eps_r=11.7, mu_n=MU_N, mu_p=MU_P, tau_n=1e-3, tau_p=1e-3, n_i=N_I,
        reference_density=HEAVY,
        donors=lambda x: ufl.conditional(ufl.ge(x[1], z_j), HEAVY, 0.0),
        acceptors=lambda x: ufl.conditional(ufl.lt(x[1], z_j), HEAVY, 0.0))


def _axisymmetric_diode(nz: int, bias: float) -> dict:
    d = _cylinder(nz)
    par = _heavy_diode()
    ctx = Context.create(d, {})
    poisson = Poisson(par, lumped=True)
    modules = [poisson, FittedDriftDiffusion(par), OhmicContact(par, Facet.CU_SINK),
               OhmicContact(par, Facet.W_SINK)]
    prob = CoupledProblem(ctx, modules, degree=1, petsc_options=SOLVER)
    step0 = None
    assert prob.solve().converged
    step0 = poisson.quantities(ctx)["max_cell_potential_step [V_T]"]
    continue_bias(prob, bias, max_step=0.1, min_step=1e-3)
    q = prob.quantities()
    xyz = prob.u["psi"].function_space.tabulate_dof_coordinates()
    return {"q": q, "step0": step0, "r": xyz[:, 0], "z": xyz[:, 1], "bias": bias,
            **{k: prob.u[k].x.array.copy() for k in ("phi_n", "phi_p")}}


def test_axisymmetric_diode_monotone_and_converging():
    bias = 0.5
    runs = [_axisymmetric_diode(nz, bias) for nz in (32, 64, 128, 256)]
    coarse = runs[0]
    print(f"\ncoarsest mesh (31 nm): equilibrium potential step {coarse['step0']:.1f} V_T per cell")
    assert coarse["step0"] > 20
    for r in runs:
        for k in ("phi_n", "phi_p"):
            phi = r[k]
            # discrete maximum principle: between the contacts' potentials, and monotone along
            # every line of nodes parallel to the axis
            assert phi.min() > -1e-9 and phi.max() < bias + 1e-9
            for radius in np.unique(np.round(r["r"], 6)):
                line = np.flatnonzero(np.isclose(r["r"], radius))
                values = phi[line[np.argsort(r["z"][line])]]
                assert np.all(np.diff(values) <= 1e-12), (k, radius)
    currents = np.array([r["q"]["cathode_current [A]"] for r in runs])
    changes = np.abs(np.diff(currents))
    rates = np.log2(changes[:-1] / changes[1:])
    print("currents [A]:", [f"{c:.8e}" for c in currents])
    print("changes between levels:", [f"{c / currents[-1]:.2e}" for c in changes],
          "observed rates:", [f"{r:.2f}" for r in rates])
    assert np.all(changes[1:] < changes[:-1])
    assert changes[-1] / abs(currents[-1]) < 5e-3
    assert min(rates) > 1.4  # second order asymptotically (measured 2.12, 1.69)


# -- patch test: a uniform resistor is exact on intervals, axisymmetric triangles, tetrahedra ------
def _bar(dimension: str, n: int) -> Domain:
    """A bar along the last axis (100 nm long, 20 nm wide): cu_sink at 0, w_sink at the end."""
    if dimension == "axisymmetric":
        return _cylinder_of(n, 20.0, 100.0)
    if dimension == "1d":
        return box_domain(n, "1d", 100.0)
    comm = MPI.COMM_WORLD
    mesh = dolfinx.mesh.create_box(comm, [[0.0, 0.0, 0.0], [20.0, 20.0, 100.0]], [2, 2, n])
    return _tagged(mesh, 100.0, "3d")


def _tagged(mesh, length: float, dimension: str) -> Domain:
    fdim = mesh.topology.dim - 1
    ax = mesh.geometry.dim - 1
    mesh.topology.create_connectivity(fdim, fdim + 1)
    ends = [dolfinx.mesh.locate_entities_boundary(mesh, fdim, lambda x, z=z: np.isclose(x[ax], z))
            for z in (0.0, length)]
    facets = np.concatenate(ends).astype(np.int32)
    values = np.concatenate([np.full(len(ends[0]), 1), np.full(len(ends[1]), 2)]).astype(np.int32)
    order = np.argsort(facets)
    ftags = dolfinx.mesh.meshtags(mesh, fdim, facets[order], values[order])
    imap = mesh.topology.index_map(fdim + 1)
    n = imap.size_local + imap.num_ghosts
    ctags = dolfinx.mesh.meshtags(mesh, fdim + 1, np.arange(n, dtype=np.int32),
                                  np.ones(n, dtype=np.int32))
    return Domain(mesh, ctags, ftags, {Region.WIRE: 1}, {Facet.CU_SINK: 1, Facet.W_SINK: 2},
                  dimension, wire_diameter=40e-9)


def _cylinder_of(nz: int, radius: float, length: float) -> Domain:
    mesh = dolfinx.mesh.create_rectangle(MPI.COMM_WORLD, [[0.0, 0.0], [radius, length]],
                                         [2, nz], diagonal=dolfinx.mesh.DiagonalType.crossed)
    return _tagged(mesh, length, "axisymmetric")


@pytest.mark.parametrize("dimension", ["1d", "axisymmetric", "3d"])
def test_uniform_resistor_is_exact(dimension):
    """Linear potentials with a uniform density are an exact discrete solution of the fitted
    scheme (the edge flux is exact for them), so the current is q (mu_n n + mu_p p) A V / L to
    round-off on any mesh, if the edge weights of each cell shape and measure are right; also,
    the cell heat tested with zeta = phi + a, a = 1 - z/L, exceeds that with zeta = phi by the
    anode current (the discrete residual tested with a)."""
    d = _bar(dimension, 8)
    par = SemiconductorParameters(eps_r=11.7, mu_n=MU_N, mu_p=MU_P, tau_n=1e-7, tau_p=1e-7,
                                  n_i=N_I, donors=N_D)
    ctx = Context.create(d, {})
    dd = FittedDriftDiffusion(par)
    modules = [Poisson(par, lumped=True), dd, OhmicContact(par, Facet.CU_SINK),
               OhmicContact(par, Facet.W_SINK)]
    prob = CoupledProblem(ctx, modules, degree=1, petsc_options=SOLVER)
    V = 0.05
    continue_bias(prob, V, max_step=0.05, min_step=1e-3)
    q = prob.quantities()
    area = {"1d": d.wire_area, "axisymmetric": math.pi * (20e-9) ** 2, "3d": (20e-9) ** 2}
    p = N_I**2 / N_D
    exact = Q * (MU_N * N_D + MU_P * p) * area[dimension] * V / 100e-9
    print(f"\n{dimension}: I = {q['current [A]']:.12e} A, exact {exact:.12e} A")
    assert q["current [A]"] == pytest.approx(exact, rel=1e-9)
    assert q["cathode_current [A]"] == pytest.approx(exact, rel=1e-9)
    a = 1 - ufl.SpatialCoordinate(d.mesh)[d.gdim - 1] / 100.0
    f = ctx.fields
    comm = d.mesh.comm
    shifted = comm.allreduce(dd.cell_heat(ctx, f["phi_n"] + a, f["phi_p"] + a).sum())
    base = comm.allreduce(dd.cell_heat(ctx, f["phi_n"], f["phi_p"]).sum())
    assert base == pytest.approx(V * exact, rel=1e-9)
    assert shifted - base == pytest.approx(q["current [A]"], rel=1e-9)
    # with zeta != V at the ohmic terminals they release the difference: the balance closes
    zn, zp = f["phi_n"] + a, f["phi_p"] + a
    terminals = sum(dd.terminal_heat(ctx, zn, zp, t) for t in (Facet.CU_SINK, Facet.W_SINK))
    assert dd.terminal_heat(ctx, f["phi_n"], f["phi_p"], Facet.CU_SINK) == 0.0
    assert shifted + terminals == pytest.approx(V * exact, rel=1e-9)


def test_energy_balance_self_heated_schottky_diode():
    """The self-heated silicon Schottky diode of test_self_heating.py with the fitted fluxes:
    carrier heat (cell sums of the tested edge fluxes plus lumped recombination) plus the
    contact heat equals V I to round-off, and the heat equation receives all of it."""
    from test_self_heating import T0, _schottky_contacts, _schottky_params, _wire_temperature

    from conftest import constant_material
    from ecx_device.solvers.fixed_point import SelfHeatingProblem

    device = box_domain(200, "1d", 1000.0)
    wire, cells = device.restrict(Region.WIRE)
    ctx = Context.create(wire, {})
    ctx.fields["T"] = _wire_temperature(wire)
    par = _schottky_params(ctx.fields["T"])
    modules = [Poisson(par, lumped=True), FittedDriftDiffusion(par), *_schottky_contacts(par)]
    carriers = CoupledProblem(ctx, modules, degree=1, petsc_options=SOLVER)
    hctx = Context.create(device, {Region.WIRE: constant_material(thermal_conductivity=4.0)},
                          heat_sink_temperature=T0)
    problem = SelfHeatingProblem.create(carriers, hctx, cells, degree=1, tolerance=1e-9,
                                        max_iterations=100, petsc_options=SOLVER)
    for V in (0.3, -0.5):
        continue_bias(problem, V, max_step=0.1, min_step=1e-4)
        q = problem.quantities()
        print(f"\nV = {V:+.2f} V: I = {q['current [A]']:.4e} A, bulk {q['carrier_heat [W]']:.4e} W,"
              f" contact {q['cu_sink_contact_heat [W]']:.4e} W, balance error "
              f"{q['power_balance_error [-]']:.2e}")
        assert q["power_balance_error [-]"] < 1e-8
        assert q["cu_sink_contact_heat [W]"] > 0
        assert q["wire_heat_source [W]"] == pytest.approx(q["electrical_power [W]"], rel=1e-8)


def test_case_key_selects_the_scheme():
    """solver.carrier_flux picks the module (and the box method's lumped Poisson charge with
    the fitted fluxes); a wrong value is one line naming the key and the allowed values."""
    import copy
    from pathlib import Path

    import yaml

    from ecx_device.case.loader import validate_case
    from ecx_device.errors import CaseError
    from ecx_device.materials import load_material
    from ecx_device.physics.carriers import DriftDiffusion
    from ecx_device.physics.wire_semiconductor import drift_diffusion_modules

    cds = load_material("CdS_nanowire")
    metals = {Facet.CU_SINK: "Cu", Facet.W_SINK: "W"}
    for flux, cls, lumped in (("eafe", FittedDriftDiffusion, True),
                              ("galerkin", DriftDiffusion, False)):
        modules = drift_diffusion_modules(cds, metals, 300.0, carrier_flux=flux)
        assert type(modules[1]) is cls and modules[0].lumped is lumped
    data = yaml.safe_load((Path(__file__).parents[2] / "cases"
                           / "zhang2017_stage_a_dd.yaml").read_text())
    assert validate_case(copy.deepcopy(data)).solver.carrier_flux == "eafe"  # the default
    data["solver"]["carrier_flux"] = "upwind"
    with pytest.raises(CaseError, match=r"solver\.carrier_flux.*eafe.*galerkin") as err:
        validate_case(data)
    assert "\n" not in str(err.value)
