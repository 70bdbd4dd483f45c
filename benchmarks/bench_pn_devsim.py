"""Benchmark: the 1D silicon p-n diode in ecx_device and in DEVSIM on the same meshes (not a test).

Usage: .venv/bin/python benchmarks/bench_pn_devsim.py [--galerkin] [--mumps] [--repeat N] [NODES ...]
       (default meshes 201 1001 5001 nodes; --galerkin: the plain Galerkin carrier fluxes
       (solver.carrier_flux: galerkin) instead of the default fitted ones; --mumps: MUMPS LU
       instead of the default for a serial 1D problem, PETSc's LU with RCM ordering
       (newton.choose_linear_solver); --repeat N: run every sweep N times (default 3) and keep
       the fastest time per bias, so that other load on the machine disturbs the comparison
       less)

Device (as tests/verification/test_pn_diode.py): 1 um of Si, N_A = 1e17 cm^-3 for x < 0.5 um
(anode, biased), N_D = 1e16 cm^-3 beyond (cathode, grounded), ohmic contacts, mu_n = 1400,
mu_p = 450 cm^2/(V s), tau_n = tau_p = 1e-7 s, n_i = 1e10 cm^-3, eps_r = 11.7, T = 300 K. Forward
sweep 0-0.8 V in 0.05 V steps, one Newton solve per step in both codes, on uniform meshes with a
node at the junction.

ecx_device: P1 in (psi, phi_n, phi_p) with the default exponentially fitted (Scharfetter-Gummel /
EAFE) carrier fluxes, lumped SRH and lumped carrier charge in Poisson - in 1D the box scheme
DEVSIM uses - or plain Galerkin (--galerkin), scaled residuals, PETSc SNES with the coupling
layer's linear solver (PETSc LU with RCM for serial 1D) or MUMPS (--mumps). DEVSIM: control-volume discretisation
in (psi, n, p) with Scharfetter-Gummel fluxes and nodal SRH, written here from the DEVSIM manual
(models, contact equations, solve); the
junction node carries the control-volume average of the doping, which is what the cell-wise
doping of the finite-element side amounts to. Both report the current at the grounded cathode,
where the majority quasi-Fermi potential is near 0 V and the reaction flux is resolved to round-off
(at the biased anode the resolution is eps*V times the first cells' conductance, see
DriftDiffusion).

Per bias the script prints J (A/m^2) of both codes, their ratio, and the wall time of the solve in
each code and the ratio; per mesh the totals. The timed DEVSIM runs use double precision. In
double precision DEVSIM's density formulation has a current floor (its equilibrium current,
1.2e-6, 4.6e-6 and 2.3e-5 A/m^2 on 201, 1001 and 5001 nodes: the cancellation in the
Scharfetter-Gummel flux of the majority carrier grows as 1/h), which is 1-5 % of the 0.05 V
current; its 0.05 V current moved by +-0.7 % between the meshes while ecx_device's moved by
2e-5. The accuracy goals are therefore judged against one more, untimed DEVSIM sweep in its
extended (128-bit) precision, whose equilibrium current is ~1e-19 A/m^2. Setup (mesh, forms, equilibrium solve) is timed
separately; ecx_device's FFCx form compilation is done by a warm-up run before any timing. Both
codes run serially with one BLAS/OpenMP thread.

DEVSIM needs BLAS/LAPACK at run time: DEVSIM_MATH_LIBS is pointed at the system OpenBLAS
(``apt-get install libopenblas0``) unless already set. DEVSIM is not a dependency of ecx_device:
``pip install devsim`` into the venv to run this script.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import time
from pathlib import Path

# one thread for MUMPS/BLAS in ecx_device and OpenBLAS in DEVSIM: a serial comparison
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from ecx_device.device.names import Facet, Region  # noqa: E402
from ecx_device.solvers.newton import CoupledProblem  # noqa: E402
from ecx_device.fem import MPI, dolfinx, ufl  # noqa: E402
from ecx_device.mesh import Domain  # noqa: E402
from ecx_device.physics.base import Context  # noqa: E402
from ecx_device.physics.carriers import DriftDiffusion  # noqa: E402
from ecx_device.physics.carriers_fitted import FittedDriftDiffusion  # noqa: E402
from ecx_device.physics.contacts import OhmicContact  # noqa: E402
from ecx_device.physics.poisson import Poisson  # noqa: E402
from ecx_device.physics.semiconductor_scaling import SemiconductorParameters  # noqa: E402
from ecx_device.solvers.continuation import continue_bias  # noqa: E402
from ecx_device.units import BOLTZMANN, ELEMENTARY_CHARGE, MESH_UNIT, VACUUM_PERMITTIVITY  # noqa: E402

LENGTH = 1e-6  # m
N_A, N_D, N_I = 1e23, 1e22, 1e16  # m^-3
MU_N, MU_P, TAU, EPS_R, TEMPERATURE = 0.14, 0.045, 1e-7, 11.7, 300.0
BIASES = np.round(np.arange(0.0, 0.8001, 0.05), 10)

_OPENBLAS = ("/usr/lib/x86_64-linux-gnu/libopenblas.so.0",
             "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0",
             "/usr/lib64/libopenblas.so.0")


# -- ecx_device ------------------------------------------------------------------------------
def interval_domain(nodes: int) -> Domain:
    """Uniform interval [0, LENGTH] (mesh in nm): region ``wire``, cu_sink at 0, w_sink at L."""
    comm = MPI.COMM_WORLD
    L_nm = LENGTH / MESH_UNIT
    mesh = dolfinx.mesh.create_interval(comm, nodes - 1, [0.0, L_nm])
    mesh.topology.create_connectivity(0, 1)
    left = dolfinx.mesh.locate_entities_boundary(mesh, 0, lambda x: np.isclose(x[0], 0.0))
    right = dolfinx.mesh.locate_entities_boundary(mesh, 0, lambda x: np.isclose(x[0], L_nm))
    facets = np.concatenate([left, right]).astype(np.int32)
    values = np.concatenate([np.full(len(left), 1), np.full(len(right), 2)]).astype(np.int32)
    order = np.argsort(facets)
    ftags = dolfinx.mesh.meshtags(mesh, 0, facets[order], values[order])
    imap = mesh.topology.index_map(1)
    ncell = imap.size_local + imap.num_ghosts
    ctags = dolfinx.mesh.meshtags(mesh, 1, np.arange(ncell, dtype=np.int32),
                                  np.ones(ncell, dtype=np.int32))
    return Domain(mesh, ctags, ftags, {Region.WIRE: 1},
                  {Facet.CU_SINK: 1, Facet.W_SINK: 2}, "1d", wire_diameter=40e-9)


def run_ecx(nodes: int, solver: dict | None = None, galerkin: bool = False) -> dict:
    """Sweep in ecx_device; J at the cathode (A/m^2) and solve wall times (s) per bias."""
    t0 = time.perf_counter()
    d = interval_domain(nodes)
    x_j = LENGTH / 2
    par = SemiconductorParameters(
        eps_r=EPS_R, mu_n=MU_N, mu_p=MU_P, tau_n=TAU, tau_p=TAU, n_i=N_I,
        temperature=TEMPERATURE, reference_density=N_A,
        donors=lambda x: ufl.conditional(ufl.ge(x[0], x_j), N_D, 0.0),
        acceptors=lambda x: ufl.conditional(ufl.lt(x[0], x_j), N_A, 0.0))
    ctx = Context.create(d, {})
    carriers = DriftDiffusion(par) if galerkin else FittedDriftDiffusion(par)
    modules = [Poisson(par, lumped=not galerkin), carriers, OhmicContact(par, Facet.CU_SINK),
               OhmicContact(par, Facet.W_SINK)]
    # Newton stops on the update (stol 1e-11 relative); see the report for why not on rtol
    prob = CoupledProblem(ctx, modules, degree=1,
                          petsc_options={"snes_rtol": 0.0, **(solver or {})})
    if not prob.solve().converged:
        raise RuntimeError("ecx_device: equilibrium did not converge")
    setup = time.perf_counter() - t0
    J, times, its = [], [], []
    for V in BIASES:
        t = time.perf_counter()
        rep = continue_bias(prob, float(V), max_step=0.05, min_step=1e-3) if V > 0 else None
        times.append(time.perf_counter() - t)
        its.append(rep.newton_iterations if rep else 0)
        q = prob.quantities()
        J.append(q["cathode_current [A]"] / d.wire_area)
    return {"J": np.array(J), "t": np.array(times), "setup": setup, "its": its}


# -- DEVSIM ----------------------------------------------------------------------------------
def import_devsim():
    """Import devsim with a BLAS/LAPACK it can load, or return None."""
    if "DEVSIM_MATH_LIBS" not in os.environ:
        found = [p for p in _OPENBLAS if Path(p).exists()]
        if found:
            os.environ["DEVSIM_MATH_LIBS"] = found[0]
    try:
        import devsim
    except Exception as err:  # not installed, or no BLAS/LAPACK found
        print(f"DEVSIM unavailable ({err}); pip install devsim, apt-get install libopenblas0")
        return None
    return devsim


@contextlib.contextmanager
def _quiet():
    """Send the C++ side's stdout (DEVSIM prints every Newton iteration) to /dev/null."""
    sys.stdout.flush()
    saved = os.dup(1)
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), 1)
        try:
            yield
        finally:
            os.dup2(saved, 1)
            os.close(saved)


def _model(ds, kind: str, name: str, expr: str, wrt: list[str], **where) -> None:
    """Create a node or edge model and its derivative models ``name:var`` by symdiff."""
    make = ds.node_model if kind == "node" else ds.edge_model
    make(name=name, equation=expr, **where)
    for var in wrt:
        make(name=f"{name}:{var}", equation=f"simplify(diff({expr}, {var}))", **where)


def run_devsim(ds, nodes: int, extended: bool = False) -> dict:
    """Sweep in DEVSIM (cm units inside); J at the cathode (A/m^2) and solve times (s).
    ``extended``: DEVSIM's extended (128-bit) floating point in models, equations and the
    solver, for the accuracy reference (several times slower; never timed against ecx)."""
    t0 = time.perf_counter()
    ds.reset_devsim()  # also resets the global parameters: set the precision after it
    for name in ("extended_solver", "extended_model", "extended_equation"):
        ds.set_parameter(name=name, value=extended)
    dev, reg, mesh = "diode", "si", "diode_mesh"
    L = LENGTH * 100.0  # cm
    h = L / (nodes - 1)
    ds.create_1d_mesh(mesh=mesh)
    ds.add_1d_mesh_line(mesh=mesh, pos=0.0, ps=h, tag="left")
    ds.add_1d_mesh_line(mesh=mesh, pos=L / 2, ps=h)
    ds.add_1d_mesh_line(mesh=mesh, pos=L, ps=h, tag="right")
    ds.add_1d_contact(mesh=mesh, name="anode", tag="left", material="metal")
    ds.add_1d_contact(mesh=mesh, name="cathode", tag="right", material="metal")
    ds.add_1d_region(mesh=mesh, material="Si", region=reg, tag1="left", tag2="right")
    ds.finalize_mesh(mesh=mesh)
    ds.create_device(mesh=mesh, device=dev)
    at = {"device": dev, "region": reg}

    vt = BOLTZMANN * TEMPERATURE / ELEMENTARY_CHARGE
    ni, na, nd = N_I * 1e-6, N_A * 1e-6, N_D * 1e-6  # cm^-3
    for name, value in {"q": ELEMENTARY_CHARGE, "eps": EPS_R * VACUUM_PERMITTIVITY / 100.0,
                        "V_t": vt, "n_i": ni, "mu_n": MU_N * 1e4, "mu_p": MU_P * 1e4,
                        "tau_n": TAU, "tau_p": TAU, "anode_bias": 0.0}.items():
        ds.set_parameter(device=dev, name=name, value=value)

    # doping: nodal values; the junction node gets the average of its two half cells
    x = np.array(ds.get_node_model_values(name="x", **at))
    if len(x) != nodes:
        raise RuntimeError(f"DEVSIM made {len(x)} nodes, expected {nodes}")
    net = np.where(x < L / 2, -na, nd)
    net[np.isclose(x, L / 2, rtol=0, atol=1e-3 * h)] = 0.5 * (nd - na)
    ds.node_solution(name="NetDoping", **at)
    ds.set_node_values(name="NetDoping", values=net.tolist(), **at)

    # stage 1: Poisson-Boltzmann (equilibrium carriers as functions of psi)
    ds.node_solution(name="Potential", **at)
    ds.set_node_values(name="Potential", values=(vt * np.arcsinh(net / (2 * ni))).tolist(), **at)
    ds.edge_from_node_model(node_model="Potential", **at)
    _model(ds, "node", "EqElectrons", "n_i*exp(Potential/V_t)", ["Potential"], **at)
    _model(ds, "node", "EqHoles", "n_i*exp(-Potential/V_t)", ["Potential"], **at)
    _model(ds, "node", "EqCharge", "-q*(EqHoles - EqElectrons + NetDoping)", ["Potential"], **at)
    # flux of -eps grad psi from node n0 to node n1
    _model(ds, "edge", "DField", "eps*(Potential@n0 - Potential@n1)*EdgeInverseLength",
           ["Potential@n0", "Potential@n1"], **at)
    ds.equation(name="PotentialEquation", variable_name="Potential", node_model="EqCharge",
                edge_model="DField", variable_update="log_damp", **at)
    psi_eq = {c: vt * math.asinh(float(net[i]) / (2 * ni)) for c, i in (("anode", 0),
                                                                         ("cathode", -1))}
    bias = {"anode": "anode_bias", "cathode": "0"}
    for c in ("anode", "cathode"):
        ds.contact_node_model(device=dev, contact=c, name=f"{c}_psi",
                              equation=f"Potential - {bias[c]} - {psi_eq[c]!r}")
        ds.contact_node_model(device=dev, contact=c, name=f"{c}_psi:Potential", equation="1")
        ds.contact_equation(device=dev, contact=c, name="PotentialEquation",
                            node_model=f"{c}_psi", edge_charge_model="DField")
    with _quiet():
        ds.solve(type="dc", absolute_error=1e-12, relative_error=1e-12, maximum_iterations=50)

    # stage 2: drift-diffusion in (psi, n, p), Scharfetter-Gummel fluxes, nodal SRH
    for carrier, init in (("Electrons", "EqElectrons"), ("Holes", "EqHoles")):
        ds.node_solution(name=carrier, **at)
        ds.set_node_values(name=carrier, init_from=init, **at)
        ds.edge_from_node_model(node_model=carrier, **at)
    _model(ds, "node", "Charge", "-q*(Holes - Electrons + NetDoping)", ["Electrons", "Holes"],
           **at)
    ds.equation(name="PotentialEquation", variable_name="Potential", node_model="Charge",
                edge_model="DField", variable_update="log_damp", **at)
    srh = "(Electrons*Holes - n_i^2)/(tau_p*(Electrons + n_i) + tau_n*(Holes + n_i))"
    _model(ds, "node", "ElectronSource", f"-q*{srh}", ["Electrons", "Holes"], **at)
    _model(ds, "node", "HoleSource", f"q*{srh}", ["Electrons", "Holes"], **at)
    dpsi = "(Potential@n1 - Potential@n0)/V_t"
    jn = (f"q*mu_n*V_t*EdgeInverseLength*(Electrons@n1*B({dpsi}) - Electrons@n0*B(-{dpsi}))")
    jp = (f"q*mu_p*V_t*EdgeInverseLength*(Holes@n0*B({dpsi}) - Holes@n1*B(-{dpsi}))")
    nodes_of = ["Potential@n0", "Potential@n1"]
    _model(ds, "edge", "ElectronCurrent", jn, nodes_of + ["Electrons@n0", "Electrons@n1"], **at)
    _model(ds, "edge", "HoleCurrent", jp, nodes_of + ["Holes@n0", "Holes@n1"], **at)
    # div J_n - q R = 0 and div J_p + q R = 0 (DEVSIM assembles div(edge model) + node model)
    ds.equation(name="ElectronContinuityEquation", variable_name="Electrons",
                node_model="ElectronSource", edge_model="ElectronCurrent",
                variable_update="positive", **at)
    ds.equation(name="HoleContinuityEquation", variable_name="Holes", node_model="HoleSource",
                edge_model="HoleCurrent", variable_update="positive", **at)
    for c, i in (("anode", 0), ("cathode", -1)):
        n_eq = ni * math.exp(psi_eq[c] / vt)
        p_eq = ni * math.exp(-psi_eq[c] / vt)
        for carrier, value, eqn, cur in (("Electrons", n_eq, "ElectronContinuityEquation",
                                          "ElectronCurrent"),
                                         ("Holes", p_eq, "HoleContinuityEquation",
                                          "HoleCurrent")):
            ds.contact_node_model(device=dev, contact=c, name=f"{c}_{carrier}",
                                  equation=f"{carrier} - {value!r}")
            ds.contact_node_model(device=dev, contact=c, name=f"{c}_{carrier}:{carrier}",
                                  equation="1")
            ds.contact_equation(device=dev, contact=c, name=eqn, node_model=f"{c}_{carrier}",
                                edge_current_model=cur)
    # DEVSIM needs both the relative and the absolute update norm (cm^-3 for n, p) below its
    # limit; 1e3 cm^-3 is far above the round-off floor (~30 cm^-3 at 1e17 cm^-3) and far below
    # any density that matters
    solve = {"type": "dc", "absolute_error": 1e3, "relative_error": 1e-11,
             "maximum_iterations": 40}
    with _quiet():
        ds.solve(**solve)
    setup = time.perf_counter() - t0

    def cathode_current() -> float:
        i = sum(ds.get_contact_current(device=dev, contact="cathode", equation=e)
                for e in ("ElectronContinuityEquation", "HoleContinuityEquation"))
        return abs(i) * 1e4  # A/cm^2 -> A/m^2; the sign convention is DEVSIM's

    J, times = [], []
    for V in BIASES:
        t = time.perf_counter()
        if V > 0:
            ds.set_parameter(device=dev, name="anode_bias", value=float(V))
            with _quiet():
                ds.solve(**solve)
        times.append(time.perf_counter() - t)
        J.append(cathode_current())
    return {"J": np.array(J), "t": np.array(times), "setup": setup}


def _fastest(runs: list[dict]) -> dict:
    """First run's results with the fastest time per bias (and setup) over all runs."""
    out = dict(runs[0])
    out["t"] = np.min([r["t"] for r in runs], axis=0)
    out["setup"] = min(r["setup"] for r in runs)
    for r in runs[1:]:  # the runs are deterministic: same currents every time
        assert np.allclose(r["J"], out["J"], rtol=1e-12, atol=0)
    return out


def main() -> None:
    args = sys.argv[1:]
    solver = {}
    if "--mumps" in args:
        args.remove("--mumps")
        solver = {"pc_factor_mat_solver_type": "mumps"}
    galerkin = "--galerkin" in args
    if galerkin:
        args.remove("--galerkin")
    repeat = 3
    if "--repeat" in args:
        k = args.index("--repeat")
        repeat = int(args[k + 1])
        del args[k:k + 2]
    sizes = [int(a) for a in args] or [201, 1001, 5001]
    ds = import_devsim()
    run_ecx(51, solver, galerkin)  # warm-up: FFCx compiles (or loads from its cache) every form
    print(f"ecx_device carrier fluxes: {'galerkin' if galerkin else 'fitted (default)'}; linear "
          f"solver: {solver or 'default (PETSc LU, RCM)'}; fastest of {repeat} runs; load "
          f"{os.getloadavg()[0]:.2f}")
    for nodes in sizes:
        e = _fastest([run_ecx(nodes, solver, galerkin) for _ in range(repeat)])
        s = None
        if ds:
            with _quiet():  # DEVSIM also reports every model it creates
                s = _fastest([run_devsim(ds, nodes) for _ in range(repeat)])
        print(f"\n=== {nodes} nodes: setup (mesh, forms, equilibrium) ecx {e['setup']:.3f} s"
              + (f", DEVSIM {s['setup']:.3f} s" if s else ""))
        if s is not None:
            print(f"  equilibrium current (0 exactly): ecx {e['J'][0]:.2e}, DEVSIM {s['J'][0]:.2e}"
                  " A/m^2 - DEVSIM's round-off floor in the density formulation")
        print("   V [V]   J_ecx [A/m^2]   J_devsim [A/m^2]   ratio     t_ecx [s]  t_devsim [s]"
              "  t ratio  ecx Newton its")
        for k, V in enumerate(BIASES[1:], start=1):
            if s is None:
                print(f"  {V:5.2f}  {e['J'][k]:14.6e}")
                continue
            ratio = e["J"][k] / s["J"][k]
            tr = e["t"][k] / s["t"][k]
            print(f"  {V:5.2f}  {e['J'][k]:14.6e}  {s['J'][k]:16.6e}  {ratio:9.6f}  "
                  f"{e['t'][k]:9.4f}  {s['t'][k]:11.4f}  {tr:7.2f}  {e['its'][k]:4d}")
        if s is not None:
            ratio = e["t"].sum() / s["t"].sum()
            print(f"  sweep time ecx {e['t'].sum():.3f} s, DEVSIM {s['t'].sum():.3f} s, ratio "
                  f"{ratio:.2f}; with setup ecx {e['t'].sum() + e['setup']:.3f} s, DEVSIM "
                  f"{s['t'].sum() + s['setup']:.3f} s")
            print(f"  goal (issue 14): sweep ratio {ratio:.2f} <= 0.5 "
                  f"{'met' if ratio <= 0.5 else 'NOT met'} (load {os.getloadavg()[0]:.2f})")
            _accuracy(e["J"], s["J"], "DEVSIM (double precision, timed)")
            with _quiet():
                x = run_devsim(ds, nodes, extended=True)
            print(f"  DEVSIM in extended precision: equilibrium current {x['J'][0]:.2e} A/m^2; "
                  "J_ecx / J_DEVSIM-extended - 1 at")
            print("   " + ", ".join(f"{V:.2f} V {r - 1:+.1e}" for V, r in
                                    zip(BIASES[1:5], e["J"][1:5] / x["J"][1:5], strict=True)))
            _accuracy(e["J"], x["J"], "DEVSIM (extended precision, the reference)", goals=True)


def _accuracy(j_ecx: np.ndarray, j_ref: np.ndarray, label: str, goals: bool = False) -> None:
    """Print the largest relative current difference over 0.05-0.8 V and 0.2-0.8 V against
    ``label``; with ``goals``, against issue 14's accuracy goals."""
    dev = np.abs(j_ecx[1:] / j_ref[1:] - 1)
    hi = BIASES[1:] >= 0.2 - 1e-9
    text = f"  vs {label}: max |ratio - 1| {dev.max():.2e} over 0.05-0.8 V, " \
           f"{dev[hi].max():.2e} over 0.2-0.8 V"
    if goals:
        text += (f"; goals (issue 14): {dev[hi].max():.2e} <= 1e-3 over 0.2-0.8 V "
                 f"{'met' if dev[hi].max() <= 1e-3 else 'NOT met'}, {dev.max():.2e} <= 5e-3 over "
                 f"0.05-0.8 V {'met' if dev.max() <= 5e-3 else 'NOT met'}")
    print(text)

if __name__ == "__main__":
    main()
