"""Exchange dynamics in time: the quasi-static electro-thermal solve of the current composition,
then an implicit step of Cu+, vacancies and X on the wire, with adaptive steps (model.md 3).

Splitting. The electro-thermal state (phi, T) relaxes in ns and depends only on the bias and the
composition X, so it is re-solved after a step only when the bias changed or X moved by more than
``RESOLVE_X`` anywhere since the last solve. Each ion step uses the fields of the start of the step
(frozen) and the bias at its end. A step is rejected and halved when Newton fails, a fraction
leaves its range, X moves by more than ``exchange.max_fraction_change``, or the re-solve moves T by
more than ``exchange.max_temperature_change`` (the coupling then needs a shorter step); it grows by
1.5x after easy steps. Steps land on every bias breakpoint and snapshot time.

The ion unknowns live on the wire submesh; phi and T are interpolated onto it, and X back onto the
whole mesh (where the electro-thermal properties mix CdS and Cu2S by X).

Balances, each step: Cu: (mobile + lattice Cu in the wire) - initial = Cu in at the anode (or
surface supply) - Cu out at the cathode, all time-integrated with the step's own fluxes; Cd: Cd
lost from the wire = sublimated + kicked out. The relative errors go to the time series.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ecx_device import checkpoint
from ecx_device import geometry as geo
from ecx_device.coupling import CoupledProblem
from ecx_device.errors import CaseError, Interrupted, SolverError
from ecx_device.fem import MPI, dolfinx
from ecx_device.outputs.profiles import sample
from ecx_device.outputs.quantities import SeriesWriter, read_series, write_json
from ecx_device.physics.base import Context
from ecx_device.physics.exchange import (AnodeKinetics, CationExchange, CuSupply,
                                         SublimationCooling, front_position)
from ecx_device.stepping import continue_bias
from ecx_device.units import ELEMENTARY_CHARGE, MESH_UNIT

#: Re-solve the electro-thermal state when X moved by more than this anywhere (-).
RESOLVE_X = 0.02
#: Lower bound of the fractions accepted in a step (round-off below zero is tolerated).
NEGATIVE_TOLERANCE = 1e-6
#: Newton options of the ion step (residual-based convergence).
# The residual is in SI (per-site rates times m^3: ~1e-35 for a trickle of Cu), so PETSc's
# absolute test (1e-30 elsewhere) would stop it at once: off here.
ION_PETSC_OPTIONS = {"snes_rtol": 1e-11, "snes_atol": 0.0, "snes_stol": 1e-14}
#: Field snapshots written per run for ParaView besides the chosen snapshot times.
FIELD_FRAMES = 40


class ExchangeOutput:
    """Output-only module: the ion fields, interpolated onto the whole mesh for ParaView."""

    name = "exchange_output"
    unknowns = ()

    def __init__(self, c, v):
        self.c, self.v = c, v

    def residual(self, ctx, u, w):
        """No equation."""
        return {}

    def point_fields(self, ctx) -> dict:
        """Mobile Cu+ and vacancies per S site (-); meaningful in the wire only."""
        return {"cu_ion_fraction [-]": self.c, "vacancy_fraction [-]": self.v}


def anode_kinetics(case, log=None) -> AnodeKinetics | None:
    """Butler-Volmer data of the case's anode metal (None when Cu comes from elsewhere)."""
    from ecx_device.materials.database import anode_metal

    spec = case.exchange
    if spec.cu_source != "anode":
        return None
    name = spec.anode or case.materials.cu_electrode
    try:
        metal = anode_metal(name)
    except CaseError as err:
        raise CaseError(f"exchange.anode = {name!r}: {err}") from None
    return AnodeKinetics(standard_potential=metal.potential(spec.standard_potentials == "zhang2017"),
                         exchange_current=metal.exchange_current,
                         transfer_coefficient=metal.transfer_coefficient)


@dataclass
class Inventory:
    """Cumulative boundary transfers (atoms) since t = 0."""

    cu_in: float = 0.0
    cu_out: float = 0.0
    cd_sublimated: float = 0.0
    cd_kicked_out: float = 0.0
    initial: dict[str, float] = field(default_factory=dict)


class ExchangeStepper:
    """The ion problem on the wire and its coupling to the electro-thermal problem."""

    def __init__(self, case, ctx: Context, et_problem: CoupledProblem, wire_material,
                 exchanged_material):
        self.case, self.ctx, self.et = case, ctx, et_problem
        spec = case.exchange
        d = ctx.domain
        self.wire_domain, self.cells = d.restrict(geo.Region.WIRE)
        wmesh = self.wire_domain.mesh
        th = case.thermal
        self.ictx = Context.create(self.wire_domain, {geo.Region.WIRE: wire_material},
                                   heat_sink_temperature=th.heat_sink_temperature)
        self.ictx.exchanged = {geo.Region.WIRE: exchanged_material}
        deg = case.solver.element_degree
        Vs = dolfinx.fem.functionspace(wmesh, ("Lagrange", deg))
        self.phi = dolfinx.fem.Function(Vs, name="phi")
        self.T = dolfinx.fem.Function(Vs, name="T")
        self.ictx.fields.update({"phi": self.phi, "T": self.T})
        one_d = case.geometry.dimension == "1d"
        anode_facet = geo.Facet.CU_SINK if one_d else geo.Facet.CU_WIRE
        cathode_facet = geo.Facet.W_SINK if one_d else geo.Facet.W_WIRE
        supply = (CuSupply(geo.Facet.WIRE_SURFACE) if spec.cu_source == "surface" else None)
        site_density = float(wire_material("sulfur_site_density", th.heat_sink_temperature))
        self.module = CationExchange(anode_facet, cathode_facet, anode_kinetics(case),
                                     site_density=site_density,
                                     reduction_velocity=spec.cathode_reduction_velocity,
                                     supply=supply, sublimation=spec.sublimation)
        s = case.solver
        # Unlike the electro-thermal solve, an ion step has no Dirichlet jump and its unknowns can
        # be tiny (c ~ 1e-9), so a relative update test stops too early: converge on the residual.
        self.ions = CoupledProblem(self.ictx, [self.module], degree=1, tolerance=1e-15,
                                   max_iterations=s.newton_max_iterations,
                                   petsc_options={**ION_PETSC_OPTIONS, **s.petsc_options})
        # the prescribed composition (if any) is the initial state
        self.X = self.ions.u["X"]
        self.cells.to_sub(ctx.composition, self.X)
        self.module.accept(self.ions.u)
        # c and v on the whole mesh: output, and the given fields of the sublimation cooling in
        # the electro-thermal problem (filled before each of its solves)
        cooling = next((m for m in et_problem.modules if isinstance(m, SublimationCooling)), None)
        P1 = ctx.composition.function_space
        self.c_out = cooling.c if cooling else dolfinx.fem.Function(P1, name="c")
        self.v_out = cooling.v if cooling else dolfinx.fem.Function(P1, name="v")
        self.output_module = ExchangeOutput(self.c_out, self.v_out)
        self.inventory = Inventory()
        # X and bias of the last electro-thermal solve: the whole-mesh composition is always
        # this X, so phi and T stay consistent with the properties they were solved with
        self.X_solved = dolfinx.fem.Function(self.X.function_space, name="X_solved")
        self.X_solved.x.array[:] = self.X.x.array
        self._V_at_solve: float | None = None
        self.ictx.constants["bias"].value = float(ctx.constants["bias"].value)

    # -- transfers between the meshes --------------------------------------------------------------
    def pull_fields(self) -> None:
        """phi and T of the electro-thermal solution onto the wire submesh."""
        for sub, name in ((self.phi, "phi"), (self.T, "T")):
            self.cells.to_sub(self.ctx.fields[name], sub)

    def push_composition(self) -> None:
        """The X of the last electro-thermal solve onto the whole mesh (where the electro-thermal
        properties follow it)."""
        self.cells.to_parent(self.X_solved, self.ctx.composition)

    def push_ion_fields(self) -> None:
        """c and v onto the whole mesh for output."""
        for out, name in ((self.c_out, "c"), (self.v_out, "v")):
            self.cells.to_parent(self.ions.u[name], out)

    # -- the two solves ----------------------------------------------------------------------------
    def solve_electrothermal(self, bias: float, force: bool = False) -> bool:
        """Re-solve phi, T at ``bias`` for the current X if needed (see the module docstring);
        True if it solved."""
        comm = self.ctx.domain.mesh.comm
        moved = comm.allreduce(float(np.max(np.abs(self.X.x.array - self.X_solved.x.array),
                                            initial=0.0)), op=MPI.MAX)
        if not force and self._V_at_solve == bias and moved <= RESOLVE_X:
            return False
        self.X_solved.x.array[:] = self.X.x.array
        self.push_composition()
        self.push_ion_fields()
        s = self.case.solver
        continue_bias(self.et, bias, max_step=s.max_bias_step, min_step=s.min_bias_step,
                            bounds={"T": (0.0, s.max_temperature)})
        self.pull_fields()
        self._V_at_solve = bias
        return True

    def ion_step(self, dt: float, bias: float) -> tuple[bool, str, int]:
        """One backward-Euler step of c, v, X; the state is left at the result (also when it
        failed: the caller restores). Returns (ok, reason, Newton iterations)."""
        self.module.dt.value = dt
        self.ictx.constants["bias"].value = bias
        result = self.ions.solve()
        if not result.converged:
            return False, result.message or "Newton did not converge", result.iterations
        comm = self.ctx.domain.mesh.comm
        lows = {n: comm.allreduce(float(self.ions.u[n].x.array.min(initial=np.inf)), op=MPI.MIN)
                for n in ("c", "v", "X")}
        bad = [f"{n} = {lo:.3g}" for n, lo in lows.items() if lo < -NEGATIVE_TOLERANCE]
        high = comm.allreduce(float(self.X.x.array.max(initial=-np.inf)), op=MPI.MAX)
        if high > 1 + NEGATIVE_TOLERANCE:
            bad.append(f"X = {high:.6g}")
        if bad:
            return False, "out of range: " + ", ".join(bad), result.iterations
        return True, "", result.iterations

    def max_change(self) -> float:
        """Largest |X - X_previous| of the current step."""
        comm = self.ctx.domain.mesh.comm
        dX = np.abs(self.X.x.array - self.module.previous["X"].x.array)
        return comm.allreduce(float(dX.max(initial=0.0)), op=MPI.MAX)

    def balance(self) -> dict[str, float]:
        """Inventories and boundary rates of the current state (see CationExchange)."""
        return self.ictx.evaluate("balance", lambda: self.module.balance_forms(self.ictx))

    # -- reporting ---------------------------------------------------------------------------------
    def quantities(self, b: dict[str, float]) -> dict[str, float]:
        """Scalars of the current exchange state for the time series; ``b`` holds the rates of
        the step that led here (:meth:`balance` before accepting it)."""
        inv = self.inventory
        b = {**b, **{k: v for k, v in self.balance().items() if "rate" not in k}}
        cu_now = b["cu_mobile"] + b["cu_lattice"]
        cu_gain = cu_now - inv.initial["cu"]
        cu_net_in = inv.cu_in - inv.cu_out
        # floor: the round-off of an inventory summed over the wire (~1e-12 of its S sites)
        floor = 1e-12 * self.module.N * b["volume"]
        cu_scale = max(abs(inv.cu_in), abs(cu_gain), abs(inv.cu_out), floor)
        cd_lost = b["cd_missing"] - inv.initial["cd_missing"]
        cd_out = inv.cd_sublimated + inv.cd_kicked_out
        cd_scale = max(abs(cd_lost), abs(cd_out), floor)
        front = front_position(self.X, self.wire_domain.axial_index)
        row = {
            "ionic_current [A]": ELEMENTARY_CHARGE * b["cu_in_rate"],
            "cu_inflow_rate [1/s]": b["cu_in_rate"], "cu_outflow_rate [1/s]": b["cu_out_rate"],
            "cu_inflow_formula_deviation [-]": (
                abs(b["cu_in_rate_formula"] - b["cu_in_rate"])
                / max(abs(b["cu_in_rate"]), abs(b["cu_in_rate_formula"]), 1e-300)),
            "cd_sublimation_rate [1/s]": b["cd_sublimation_rate"],
            "cd_kickout_rate [1/s]": b["cd_kickout_rate"],
            "cu_in_total [-]": inv.cu_in, "cu_out_total [-]": inv.cu_out,
            "cu_mobile [-]": b["cu_mobile"], "cu_lattice [-]": b["cu_lattice"],
            "cd_lost [-]": cd_lost, "vacancies [-]": b["vacancies"],
            "exchanged_volume [nm^3]": b["exchanged"] / MESH_UNIT**3,
            "exchanged_fraction [-]": b["exchanged"] / b["volume"],
            "front_position [nm]": front if np.isfinite(front) else float("nan"),
            "cu_balance_error [-]": abs(cu_gain - cu_net_in) / cu_scale,
            "cd_balance_error [-]": abs(cd_lost - cd_out) / cd_scale,
        }
        for z in self.case.exchange.stations:
            row[f"shell_thickness_z{z / MESH_UNIT:g}nm [nm]"] = self.shell_thickness(z)
        return row

    def shell_thickness(self, z: float) -> float:
        """Radial depth (nm) below the surface where X >= 1/2 at axial position ``z`` (m): from
        the axis outward, the surface radius minus the innermost exchanged radius on a line of
        201 points (1D: the thickness of a shell with the cross-section's mean X)."""
        R = self.case.geometry.wire.diameter / 2 / MESH_UNIT
        dim = self.case.geometry.dimension
        zn = z / MESH_UNIT
        if dim == "1d":
            x = sample(self.X, np.array([[zn, 0.0, 0.0]]))
            return float(R * (1 - np.sqrt(max(0.0, 1 - min(x[0], 1.0)))))
        r = np.linspace(0.0, R * (1 - 1e-9), 201)
        pts = wire_points(dim, np.full_like(r, zn), r)
        vals = sample(self.X, pts)
        inside = r[vals >= 0.5]
        return float(R - inside.min()) if len(inside) else 0.0

    # -- checkpoint adapter ----------------------------------------------------------------------
    @property
    def u(self) -> dict:
        """Every unknown of both problems, keyed ``et.<name>`` / ``ion.<name>``, and the X of the
        last electro-thermal solve (checkpoints)."""
        return {**{f"et.{k}": f for k, f in self.et.u.items()},
                **{f"ion.{k}": f for k, f in self.ions.u.items()}, "aux.X_solved": self.X_solved,
                "aux.c": self.c_out, "aux.v": self.v_out}

    def state(self) -> dict[str, np.ndarray]:
        """Copy of every unknown's array."""
        return {k: f.x.array.copy() for k, f in self.u.items()}

    def restore(self, state: dict[str, np.ndarray]) -> None:
        """Put back a :meth:`state` (both problems, previous ion state = restored state)."""
        u = self.u
        for k, arr in state.items():
            u[k].x.array[:] = arr
        self.module.accept(self.ions.u)
        self.push_composition()
        self.pull_fields()


def run_exchange(sim) -> object:
    """The time loop of an exchange run (called by :meth:`Simulation.run`); see the module
    docstring. Writes timeseries.csv (one row per accepted step), fields, snapshots, plots,
    checkpoints, results.json.

    Raises:
        SolverError: a step cannot be made even at the smallest time step (outputs, checkpoint
            and failure_report.json are on disk).
        Interrupted: SIGINT/SIGTERM (outputs and checkpoint on disk).
    """
    from ecx_device.outputs.fields import FieldWriter
    from ecx_device.outputs.plots import exchange_plots
    from ecx_device.simulation import UNKNOWN_NAMES, RunResult, StopOnSignal, region_materials

    wall0 = time.perf_counter()
    case, restart = sim.case, sim.restart
    spec = case.exchange
    if not restart:
        sim._write_provenance()
        if sim.comm.rank == 0:
            (sim.out / "failure_report.json").unlink(missing_ok=True)
    ctx, et, modules = sim.build()
    ctx.domain.write_markers(sim.out / "markers.json")
    mats = region_materials(case)
    stepper = ExchangeStepper(case, ctx, et, mats[geo.Region.WIRE], mats["wire_exchanged"])
    modules = [*modules, stepper.output_module]
    sign = case.bias.sign
    protocol = case.bias.protocol
    t_end = protocol.end_time
    if sim.smoke:
        t_end = min(t_end, case.smoke.max_simulated_time)
    stops = sorted({t for t in [*protocol.breakpoints(), *spec.snapshot_times, t_end]
                    if 0.0 < t <= t_end})
    frame_every = t_end / FIELD_FRAMES
    dofs = sum(V.dofmap.index_map.size_global for V in et.spaces.values()) + sum(
        V.dofmap.index_map.size_global for V in stepper.ions.spaces.values())
    result = RunResult(sim.out, dofs=dofs)
    fingerprint = checkpoint.case_hash(case.model_dump_json() + f"smoke={sim.smoke}")
    inv = stepper.inventory
    t, dt, steps, rejected = 0.0, spec.initial_time_step, 0, 0
    next_frame, next_checkpoint, snapshots_done = 0.0, 0.0, 0
    snapshot_times = sorted(spec.snapshot_times)
    if restart:
        meta = checkpoint.load(sim.out, stepper, fingerprint)
        t, dt, steps, rejected = meta["time [s]"], meta["dt [s]"], meta["steps"], meta["rejected"]
        next_frame, snapshots_done = meta["next_frame"], meta["snapshots_done"]
        next_checkpoint = t
        inv.cu_in, inv.cu_out = meta["cu_in"], meta["cu_out"]
        inv.cd_sublimated, inv.cd_kicked_out = meta["cd_sublimated"], meta["cd_kicked_out"]
        inv.initial = meta["initial"]
        ctx.constants["bias"].value = meta["bias [V]"]
        stepper._V_at_solve = meta["bias [V]"]
        stepper.ictx.constants["bias"].value = meta["bias [V]"]
        result.rows = read_series(sim.out / "timeseries.csv")[: meta["rows"]]
        sim.log(f"restart at t = {t:.6g} s ({steps} steps done)")
    else:
        bias = protocol.voltage_at(0.0, sign)
        stepper.solve_electrothermal(bias, force=True)
        stepper.ictx.constants["bias"].value = bias
        b0 = stepper.balance()
        inv.initial = {"cu": b0["cu_mobile"] + b0["cu_lattice"], "cd_missing": b0["cd_missing"]}
    sim.log(f"exchange run to t = {t_end:.4g} s; unknowns: {', '.join(et.names)} (whole mesh, "
            f"P{case.solver.element_degree}), c, v, X (wire, P1); {dofs} degrees of freedom")
    series = SeriesWriter(sim.out / "timeseries.csv", sim.comm.rank, result.rows)
    writer = (FieldWriter(sim.out / "fields", ctx, modules, UNKNOWN_NAMES,
                          continue_series=restart)
              if case.outputs.fields else contextlib.nullcontext())

    def record(newton: int, b: dict[str, float]) -> None:
        row = {"time [s]": t, "bias [V]": float(ctx.constants["bias"].value),
               **et.quantities(), **stepper.quantities(b), "time_step [s]": dt,
               "ion_newton_iterations [-]": newton, "rejected_steps [-]": rejected}
        row["total_current [A]"] = row["current [A]"] + row["ionic_current [A]"]
        result.rows.append(row)
        series.append(row)

    def save_checkpoint() -> None:
        checkpoint.save(sim.out, stepper, {
            "time [s]": t, "dt [s]": dt, "steps": steps, "rejected": rejected,
            "bias [V]": float(ctx.constants["bias"].value), "case_hash": fingerprint,
            "rows": len(result.rows), "next_frame": next_frame,
            "snapshots_done": snapshots_done, "cu_in": inv.cu_in, "cu_out": inv.cu_out,
            "cd_sublimated": inv.cd_sublimated, "cd_kicked_out": inv.cd_kicked_out,
            "initial": inv.initial})

    def write_fields() -> None:
        stepper.push_ion_fields()
        writer.write(t)

    try:
        with writer, StopOnSignal() as stop:
            if not restart:
                record(0, {k: 0.0 for k in stepper.balance()})
                if case.outputs.fields:
                    write_fields()
                next_frame = frame_every
                save_checkpoint()
            while t < t_end * (1 - 1e-12):
                t_stop = next(s for s in stops if s > t * (1 + 1e-12) + 1e-300)
                step = min(dt, t_stop - t)
                if t_stop - (t + step) < 1e-9 * step:  # do not leave a sliver before a stop
                    step = t_stop - t
                new_bias = protocol.voltage_at(t + step, sign)
                good, good_bias = stepper.state(), stepper._V_at_solve
                ok, why, its = stepper.ion_step(step, new_bias)
                if ok and stepper.max_change() > spec.max_fraction_change:
                    ok, why = False, (f"X changed by {stepper.max_change():.3g} > "
                                      f"{spec.max_fraction_change:g}")
                if ok:
                    b = stepper.balance()  # with the fields the step used: consistent fluxes
                    T_before = stepper.T.x.array.copy()
                    try:
                        stepper.solve_electrothermal(new_bias)
                    except SolverError as err:
                        ok, why = False, f"electro-thermal: {err}"
                    if ok:
                        dT = sim.comm.allreduce(float(np.max(np.abs(stepper.T.x.array - T_before),
                                                             initial=0.0)), op=MPI.MAX)
                        if dT > spec.max_temperature_change and step > spec.min_time_step:
                            ok, why = False, f"T moved {dT:.3g} K in one step"
                if not ok:
                    rejected += 1
                    stepper.restore(good)
                    stepper._V_at_solve = good_bias
                    ctx.constants["bias"].value = good_bias
                    dt = step / 2
                    if dt < spec.min_time_step:
                        save_checkpoint()
                        err = SolverError(
                            f"exchange step at t = {t:.6g} s cannot be made: {why} even with "
                            f"dt = {step:.3g} s (exchange.min_time_step = "
                            f"{spec.min_time_step:g} s)",
                            details={"time [s]": t, "last_step [s]": step, "reason": why})
                        write_json(sim.out / "failure_report.json", {
                            "message": str(err), **err.details,
                            "last_converged": result.rows[-1] if result.rows else None,
                            "checkpoint": str(sim.out / checkpoint.FOLDER)}, sim.comm.rank)
                        raise err
                    continue
                t += step
                steps += 1
                inv.cu_in += step * b["cu_in_rate"]
                inv.cu_out += step * b["cu_out_rate"]
                inv.cd_sublimated += step * b["cd_sublimation_rate"]
                inv.cd_kicked_out += step * b["cd_kickout_rate"]
                ctx.constants["bias"].value = new_bias
                grow = stepper.max_change() < spec.max_fraction_change / 2 and its <= 8
                stepper.module.accept(stepper.ions.u)
                # a step cut short by a stop does not shrink the next one
                dt = min(max(dt, step * 1.5) if grow else dt, spec.max_time_step)
                record(its, b)
                at_snapshot = (snapshots_done < len(snapshot_times)
                               and t >= snapshot_times[snapshots_done] * (1 - 1e-9))
                if at_snapshot:
                    snapshots_done += 1
                    write_snapshot(sim.out, stepper, t, case)
                if case.outputs.fields and (t >= next_frame * (1 - 1e-9) or at_snapshot
                                            or t >= t_end * (1 - 1e-12)):
                    write_fields()
                    while next_frame <= t * (1 + 1e-9):
                        next_frame += frame_every
                if t >= next_checkpoint or t >= t_end * (1 - 1e-12):
                    save_checkpoint()
                    next_checkpoint = t + spec.checkpoint_interval
                row = result.rows[-1]
                sim.log(f"[step {steps}] t = {t:.4g} s, dt = {step:.3g} s, V = {new_bias:+.3f} V: "
                        f"I = {row['current [A]']:.4g} A, T_max = {row['wire_T_max [K]']:.1f} K, "
                        f"X vol = {row['exchanged_volume [nm^3]']:.4g} nm^3, "
                        f"front = {row['front_position [nm]']:.1f} nm")
                signum = sim.comm.allreduce(stop.signal or 0, op=MPI.MAX)
                if signum and t < t_end * (1 - 1e-12):
                    save_checkpoint()
                    raise Interrupted(
                        f"stopped by signal {signum} at t = {t:.6g} s; outputs and checkpoint "
                        f"are in {sim.out}; continue with: ecx-device run CASE --restart "
                        f"{sim.out}", signum)
    finally:
        for problem in (stepper.ions, et):  # same order on every rank (see CoupledProblem.close)
            problem.close()
        result.wall_time = time.perf_counter() - wall0
        final = result.rows[-1] if result.rows else None
        write_json(sim.out / "results.json", {
            "case": case.name, "kind": "exchange", "smoke": sim.smoke,
            "degrees_of_freedom": dofs, "wall_time [s]": result.wall_time,
            "simulated_time [s]": t, "end_time [s]": t_end, "steps": steps,
            "rejected_steps": rejected, "complete": t >= t_end * (1 - 1e-12),
            "max_cu_balance_error [-]": max((r["cu_balance_error [-]"] for r in result.rows),
                                            default=None),
            "max_cd_balance_error [-]": max((r["cd_balance_error [-]"] for r in result.rows),
                                            default=None),
            "final": final}, sim.comm.rank)
    if case.outputs.plots and result.rows:
        exchange_plots(sim.out, result.rows, case, sim.comm.rank)
    if spec.iv_at_snapshots:
        stage_iv_sweeps(sim, snapshot_times[:snapshots_done])
    sim.log(f"done: {steps} steps ({rejected} rejected) in {result.wall_time:.1f} s; outputs in "
            f"{sim.out}")
    return result


def wire_points(dimension: str, z: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Mesh points (n x 3, nm) at axial positions ``z`` and radii ``r`` (1D: on the axis)."""
    zero = np.zeros_like(z, dtype=float)
    if dimension == "1d":
        return np.column_stack([z, zero, zero])
    if dimension == "axisymmetric":
        return np.column_stack([r, z, zero])
    return np.column_stack([r, zero, z])


def write_snapshot(out: Path, stepper: ExchangeStepper, t: float, case) -> None:
    """X on a regular (z, r) grid as a composition table (``composition.file`` format, so an
    ``ecx-device iv`` case can sweep the I-V of this stage) and as a map (PNG)."""
    geom = case.geometry
    R = geom.wire.diameter / 2 / MESH_UNIT
    z0 = -geom.wire.cu_contact_length / MESH_UNIT if geom.dimension != "1d" else 0.0
    L = geom.wire.free_length / MESH_UNIT
    z = np.linspace(z0, L, 241)
    r = np.linspace(0.0, R * (1 - 1e-9), 41)
    zz, rr = np.meshgrid(z, r, indexing="ij")
    if geom.dimension == "1d":
        line = sample(stepper.X, wire_points("1d", z, 0 * z))
        X = np.repeat(line[:, None], len(r), axis=1)
    else:
        X = sample(stepper.X, wire_points(geom.dimension, zz.ravel(), rr.ravel()))
    X = np.clip(np.nan_to_num(X.reshape(len(z), len(r)), nan=0.0), 0.0, 1.0)
    if stepper.ctx.domain.mesh.comm.rank != 0:
        return
    folder = Path(out) / "snapshots"
    folder.mkdir(exist_ok=True)
    stem = folder / f"composition_t{t:.6g}s"
    np.savez(f"{stem}.npz", z=z, r=r, X=X)
    from ecx_device.outputs.plots import composition_map

    composition_map(f"{stem}.png", z, r, X, f"{case.name}: X at t = {t:.4g} s")


def stage_iv_sweeps(sim, times: list[float]) -> None:
    """I-V sweeps at the frozen composition of each snapshot (``exchange.iv_at_snapshots``): the
    case with the drift-diffusion wire and ``composition.file`` = the snapshot table, swept as
    ``ecx-device iv`` does, into ``<run>/iv_t<t>s/``. The stage curves of one run."""
    from ecx_device.case.schema import CompositionSpec, ExchangeSpec
    from ecx_device.simulation import Simulation

    case = sim.case
    for t in times:
        table = sim.out / "snapshots" / f"composition_t{t:.6g}s.npz"
        stage = case.model_copy(update={
            "name": f"{case.name}_t{t:.6g}s",
            "electrical": case.electrical.model_copy(update={"wire_model": "drift_diffusion"}),
            "composition": CompositionSpec(shape="file", file=str(table)),
            "exchange": ExchangeSpec()})
        sim.log(f"I-V sweep at the composition of t = {t:.6g} s (drift-diffusion wire)")
        Simulation(stage, sim.out / f"iv_t{t:.6g}s", smoke=sim.smoke, overwrite=True,
                   comm=sim.comm, log=sim._log).run_iv()
