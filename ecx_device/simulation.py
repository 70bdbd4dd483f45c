"""Simulation: case -> geometry -> Domain -> materials -> physics -> bias loop -> outputs.

The physics modules a run solves come from :func:`physics_modules`; a later equation set is one
more entry there, not a branch in the run loop.
"""

from __future__ import annotations

import contextlib
import math
import signal
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ecx_device import __version__
from ecx_device import checkpoint
from ecx_device import geometry as geo
from ecx_device.case.schema import Case
from ecx_device.coupling import CoupledProblem
from ecx_device.errors import CaseError, Interrupted, SolverError
from ecx_device.composition import CompositionProfile
from ecx_device.fem import MPI, dolfinx
from ecx_device.materials import Material, load_material
from ecx_device.materials.database import references
from ecx_device.mesh import Domain
from ecx_device.outputs.quantities import SeriesWriter, read_series, write_json
from ecx_device.physics.base import Context
from ecx_device.physics.composition_output import CompositionOutput
from ecx_device.physics.exchange import SublimationCooling
from ecx_device.physics.heat import HeatConduction
from ecx_device.physics.wire_semiconductor import UNKNOWN_NAMES as SEMICONDUCTOR_NAMES
from ecx_device.physics.wire_semiconductor import drift_diffusion_modules, equilibrium_start
from ecx_device.physics.ohmic import OhmicConduction
from ecx_device.self_heating import SelfHeatingProblem
from ecx_device.stepping import continue_bias
from ecx_device.units import MESH_UNIT

#: Output names (with units) of the unknowns, for fields and tables.
UNKNOWN_NAMES = {"T": "temperature [K]", "phi": "potential [V]", **SEMICONDUCTOR_NAMES}


def physics_modules(case: Case, materials: dict[str, Material],
                    ctx: Context | None = None) -> list:
    """The equation sets solved for a case: the ohmic electro-thermal model, or the
    drift-diffusion wire (a CdS/Cu2S heterostructure when the case prescribes a composition,
    which ``ctx`` then holds; its data follow the wire temperature ``ctx.fields["T"]`` when the
    wire is self-heated, see :class:`ecx_device.self_heating.SelfHeatingProblem`); plus the
    output-only composition module when the case prescribes one."""
    if case.electrical.wire_model == "drift_diffusion":
        interfaces = ((geo.Facet.CU_SINK, geo.Facet.W_SINK) if case.geometry.dimension == "1d"
                      else (geo.Facet.CU_WIRE, geo.Facet.W_WIRE))
        metals = dict(zip(interfaces, (case.materials.cu_electrode, case.materials.w_tip)))
        exchanged = ctx.exchanged.get(geo.Region.WIRE) if ctx is not None else None
        modules = drift_diffusion_modules(materials[geo.Region.WIRE], metals,
                                          case.thermal.heat_sink_temperature,
                                          exchanged=exchanged, ctx=ctx,
                                          image_force=case.electrical.image_force,
                                          tunnelling=case.electrical.tunnelling,
                                          statistics=case.electrical.statistics,
                                          lattice_temperature=(ctx.fields.get("T")
                                                               if ctx is not None else None))
        if case.composition.shape != "none":
            modules.append(CompositionOutput())
        return modules
    modules = [OhmicConduction(), HeatConduction()]
    if case.composition.shape != "none" or case.exchange.enabled:
        modules.append(CompositionOutput())
    if (case.exchange.enabled and case.exchange.sublimation
            and "cd_release_enthalpy" in materials[geo.Region.WIRE].properties):
        modules.append(SublimationCooling())
    return modules


#: Case key of each DeviceGeometry field, so geometry errors name what the user wrote.
_GEOMETRY_KEYS = {
    "wire_diameter": "geometry.wire.diameter", "wire_free_length": "geometry.wire.free_length",
    "cu_contact_length": "geometry.wire.cu_contact_length",
    "cu_radius": "geometry.cu_electrode.radius", "cu_thickness": "geometry.cu_electrode.thickness",
    "w_apex_radius": "geometry.w_tip.apex_radius", "w_height": "geometry.w_tip.height",
    "w_cone_half_angle": "geometry.w_tip.cone_half_angle",
    "w_contact_depth": "geometry.w_tip.contact_depth",
    "wire_mesh_size": "geometry.mesh.wire_size", "contact_mesh_size": "geometry.mesh.contact_size",
    "metal_mesh_size": "geometry.mesh.metal_size",
}


def device_geometry(case: Case, mesh_scale: float = 1.0) -> geo.DeviceGeometry:
    """Convert the case's geometry section (m) to the mesher's description (nm), validated.

    Raises:
        CaseError: the geometry cannot be built (the message names the case keys).
    """
    geom = _device_geometry(case, mesh_scale)
    try:
        geom.validate()
    except ValueError as err:
        msg = str(err)
        for field_name, key in sorted(_GEOMETRY_KEYS.items(), key=lambda kv: -len(kv[0])):
            msg = msg.replace(field_name, key)
        raise CaseError(msg) from None
    return geom


def _device_geometry(case: Case, mesh_scale: float) -> geo.DeviceGeometry:
    g = case.geometry

    def nm(x: float) -> float:
        return float(f"{x / MESH_UNIT:.12g}")  # drop m -> nm rounding noise (1.9999999999999998)

    return geo.DeviceGeometry(
        dimension=g.dimension,
        wire_diameter=nm(g.wire.diameter),
        wire_free_length=nm(g.wire.free_length),
        cu_contact_length=nm(g.wire.cu_contact_length),
        cu_radius=nm(g.cu_electrode.radius),
        cu_thickness=nm(g.cu_electrode.thickness),
        w_apex_radius=nm(g.w_tip.apex_radius),
        w_cone_half_angle=math.degrees(g.w_tip.cone_half_angle),
        w_height=nm(g.w_tip.height),
        w_contact_depth=nm(g.w_tip.contact_depth),
        wire_mesh_size=nm(g.mesh.wire_size) * mesh_scale,
        contact_mesh_size=nm(g.mesh.contact_size) * mesh_scale,
        metal_mesh_size=nm(g.mesh.metal_size) * mesh_scale,
    )


def region_materials(case: Case) -> dict[str, Material]:
    """Region name -> material, with the case's overrides applied."""
    names = {geo.Region.CU: ("cu_electrode", case.materials.cu_electrode),
             geo.Region.WIRE: ("wire", case.materials.wire),
             geo.Region.W: ("w_tip", case.materials.w_tip),
             "wire_exchanged": ("wire_exchanged", case.materials.wire_exchanged)}
    out = {}
    for region, (key, name) in names.items():
        try:
            mat = load_material(name)
        except CaseError as err:
            raise CaseError(f"materials.{key}: {err}") from None
        overrides = case.materials.overrides.get(key, {})
        out[region] = mat.with_overrides(overrides, f"materials.overrides.{key}")
    return out


def smoke_case(case: Case) -> Case:
    """The case at the smoke element degree (mesh scaling and the protocol cut to its last bias
    points are applied in :meth:`Simulation.build` and :meth:`Simulation.run`)."""
    solver = case.solver.model_copy(update={"element_degree": case.smoke.element_degree})
    return case.model_copy(update={"solver": solver})


class StopOnSignal:
    """Turn SIGINT/SIGTERM into a flag the run loop checks between bias points, so a stopped
    run closes its files and writes a checkpoint instead of dying mid-write."""

    def __init__(self):
        self.signal: int | None = None
        self._previous: dict[int, object] = {}

    def _handler(self, signum, frame) -> None:
        self.signal = signum

    def __enter__(self) -> StopOnSignal:
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                self._previous[sig] = signal.signal(sig, self._handler)
            except ValueError:  # not the main thread: leave signals alone
                pass
        return self

    def __exit__(self, *exc) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


@dataclass
class RunResult:
    """What a run produced."""

    directory: Path
    rows: list[dict[str, float]] = field(default_factory=list)
    wall_time: float = 0.0
    dofs: int = 0

    @property
    def final(self) -> dict[str, float]:
        """Scalars at the last bias point."""
        return self.rows[-1]


class Simulation:
    """One run of a case.

    Args:
        case: The validated case.
        out_dir: Output folder (created; must be empty unless ``overwrite``).
        smoke: Shrink the case for a quick check (see the case's ``smoke`` section).
        overwrite: Allow writing into a non-empty folder.
        restart: The folder holds a checkpointed run to continue (see :meth:`run`).
        comm: MPI communicator.
        log: Progress printer (rank 0 only); ``None`` is silent.
    """

    def __init__(self, case: Case, out_dir: Path | str | None = None, *, smoke: bool = False,
                 overwrite: bool = False, restart: bool = False, comm=MPI.COMM_WORLD,
                 log=print):
        self.case = smoke_case(case) if smoke else case
        self.smoke, self.restart = smoke, restart
        self.comm = comm
        self.out = Path(out_dir or case.outputs.directory or Path("results") / case.name)
        self._log = log if comm.rank == 0 else None
        # bad geometry stops before any folder is made (with a mesh_file, the geometry section
        # still describes the device: the composition profile and 1D cross-section use it)
        device_geometry(self.case, self.case.smoke.mesh_scale if smoke else 1.0)
        if self.case.exchange.enabled:  # an unknown anode metal stops here too
            from ecx_device.dynamics import anode_kinetics

            anode_kinetics(self.case)
        if comm.rank == 0:
            if restart and not (self.out / checkpoint.FOLDER).is_dir():
                raise CaseError(f"--restart {str(self.out)!r}: not a run folder with a checkpoint")
            if not restart and self.out.exists() and any(self.out.iterdir()) and not overwrite:
                raise CaseError(f"output folder {str(self.out)!r} is not empty: choose another "
                                "with --out, continue it with --restart, or pass --overwrite")
            self.out.mkdir(parents=True, exist_ok=True)
        comm.barrier()

    def log(self, msg: str) -> None:
        """Print a progress line (rank 0)."""
        if self._log:
            self._log(msg)

    def build(self) -> tuple[Context, CoupledProblem, list]:
        """Mesh the device and set up the coupled problem."""
        case = self.case
        scale = case.smoke.mesh_scale if self.smoke else 1.0
        geom = device_geometry(case, scale)
        t0 = time.perf_counter()
        if case.geometry.mesh_file:
            domain = Domain.from_msh(case.geometry.mesh_file, case.geometry.dimension,
                                     case.geometry.wire.diameter, self.comm)
            missing = [n for n in (geo.Region.WIRE,) if n not in domain.cells] + [
                n for n in (geo.Facet.CU_SINK, geo.Facet.W_SINK) if n not in domain.facets]
            if missing:
                raise CaseError(f"geometry.mesh_file = {case.geometry.mesh_file!r}: lacks the "
                                f"named group(s) {', '.join(missing)}")
        else:
            domain = Domain.from_geometry(geom, self.comm)
        ncells = self.comm.allreduce(domain.mesh.topology.index_map(domain.mesh.topology.dim)
                                     .size_local, op=MPI.SUM)
        self.log(f"mesh: {case.geometry.dimension}, {ncells} cells "
                 f"({time.perf_counter() - t0:.1f} s)")
        th = case.thermal
        all_materials = region_materials(case)
        exchanged = all_materials.pop("wire_exchanged")
        materials, device = all_materials, domain
        drift_diffusion = case.electrical.wire_model == "drift_diffusion"
        heated = drift_diffusion and case.electrical.self_heating
        if drift_diffusion:
            # the composition is interpolated on the restricted wire below (_set_composition);
            # a self-heated wire keeps the whole device for heat
            domain, cells = domain.restrict(geo.Region.WIRE)
            materials = {geo.Region.WIRE: all_materials[geo.Region.WIRE]}
            self.log("wire model: drift-diffusion on the wire alone, metals equipotential, " + (
                "self-heated (heat on the whole device)" if heated else
                f"isothermal at {th.heat_sink_temperature:g} K"))
        ctx = self._context(domain, materials, exchanged, geom)
        s = case.solver
        if heated:  # the wire temperature the semiconductor data follow
            V = dolfinx.fem.functionspace(domain.mesh, ("Lagrange", s.element_degree))
            ctx.fields["T"] = dolfinx.fem.Function(V, name="T")
            ctx.fields["T"].x.array[:] = th.heat_sink_temperature
        modules = physics_modules(case, materials, ctx)
        problem = CoupledProblem(ctx, modules, degree=s.element_degree,
                                 tolerance=s.newton_tolerance,
                                 max_iterations=s.newton_max_iterations,
                                 petsc_options=s.petsc_options)
        if drift_diffusion:
            equilibrium_start(ctx, modules, s.element_degree, s.petsc_options)
        if heated:
            problem = SelfHeatingProblem.create(
                problem, self._context(device, all_materials, exchanged, geom), cells,
                degree=s.element_degree, tolerance=s.electrothermal_tolerance,
                max_iterations=s.electrothermal_max_iterations,
                newton_tolerance=s.newton_tolerance, newton_max_iterations=s.newton_max_iterations,
                petsc_options=s.petsc_options)
        return ctx, problem, modules

    def _context(self, domain: Domain, materials: dict[str, Material], exchanged: Material,
                 geom: geo.DeviceGeometry) -> Context:
        """Context of one mesh with the case's thermal constants and composition."""
        th = self.case.thermal
        ctx = Context.create(domain, materials, bias=0.0,
                             heat_sink_temperature=th.heat_sink_temperature,
                             radiation_temperature=th.radiation_temperature,
                             emissivity=th.emissivity)
        if self.case.composition.shape != "none" or self.case.exchange.enabled:
            ctx.exchanged = {geo.Region.WIRE: exchanged}
        self._set_composition(ctx, geom)
        return ctx

    def _set_composition(self, ctx: Context, geom: geo.DeviceGeometry) -> None:
        """Interpolate the case's prescribed exchanged fraction onto the mesh (P1)."""
        spec = self.case.composition
        V = dolfinx.fem.functionspace(ctx.domain.mesh, ("Lagrange", 1))
        if spec.shape == "none":
            if self.case.exchange.enabled:  # a pristine wire whose X evolves
                ctx.composition = dolfinx.fem.Function(V, name="exchanged_fraction [-]")
            return
        profile = CompositionProfile(spec, geom.wire_diameter / 2, geom.wire_free_length,
                                     geom.cu_contact_length)
        X = dolfinx.fem.Function(V, name="exchanged_fraction [-]")
        X.interpolate(lambda x: profile.on_mesh(x, self.case.geometry.dimension))
        ctx.composition = X

    def run(self) -> RunResult:
        """Solve every bias point of the protocol (after the checkpoint, if restarting) and write
        the outputs.

        Raises:
            SolverError: a bias point cannot be reached; outputs so far, a checkpoint of the
                last converged state and ``failure_report.json`` are on disk.
            Interrupted: SIGINT/SIGTERM; outputs and a checkpoint are on disk.
        """
        from ecx_device.outputs.plots import write_plots

        if self.case.exchange.enabled:
            from ecx_device.dynamics import run_exchange

            return run_exchange(self)
        wall0 = time.perf_counter()
        case, restart = self.case, self.restart
        if not restart:
            self._write_provenance()
            if self.comm.rank == 0:  # --overwrite: no stale report from an earlier run survives
                (self.out / "failure_report.json").unlink(missing_ok=True)
        ctx, problem, modules = self.build()
        ctx.domain.write_markers(self.out / "markers.json")
        dofs = sum(V.dofmap.index_map.size_global for V in problem.spaces.values())
        result = RunResult(self.out, dofs=dofs)
        sign = case.bias.sign
        points = case.bias.protocol.bias_points(sign)
        if self.smoke:
            points = points[-case.smoke.max_bias_points:]
        fingerprint = checkpoint.case_hash(case.model_dump_json() + f"smoke={self.smoke}")
        done = 0
        if restart:
            meta = checkpoint.load(self.out, problem, fingerprint)
            done = meta["completed"]
            ctx.constants["bias"].value = meta["bias [V]"]
            result.rows = read_series(self.out / "timeseries.csv")[:done]
            self.log(f"restart: {done}/{len(points)} bias points already done, "
                     f"continuing from V = {meta['bias [V]']:+.3f} V")
        self.log(f"unknowns: {', '.join(problem.names)}; {dofs} degrees of freedom, "
                 f"P{case.solver.element_degree}")
        series = SeriesWriter(self.out / "timeseries.csv", self.comm.rank, result.rows)
        bounds = {"T": (0.0, case.solver.max_temperature)}
        writer = (self._field_writers(ctx, modules, problem, continue_series=restart)
                  if case.outputs.fields else contextlib.nullcontext())

        def save_checkpoint() -> None:
            checkpoint.save(self.out, problem, {
                "completed": done, "bias [V]": float(ctx.constants["bias"].value),
                "case_hash": fingerprint, "time [s]": points[done - 1].time if done else 0.0})

        try:
            with writer, StopOnSignal() as stop:
                for i in range(done, len(points)):
                    bp = points[i]
                    t0 = time.perf_counter()
                    try:
                        rep = continue_bias(problem, bp.voltage,
                                            max_step=case.solver.max_bias_step,
                                            min_step=case.solver.min_bias_step, bounds=bounds)
                    except SolverError as err:
                        save_checkpoint()
                        write_json(self.out / "failure_report.json", {
                            "bias_point": i + 1, "of": len(points), "time [s]": bp.time,
                            "message": str(err), **err.details,
                            "last_converged": result.rows[-1] if result.rows else None,
                            "checkpoint": str(self.out / checkpoint.FOLDER)}, self.comm.rank)
                        raise
                    row = {"time [s]": bp.time, "bias [V]": bp.voltage, **problem.quantities(),
                           "newton_iterations [-]": rep.newton_iterations,
                           "rejected_steps [-]": rep.rejected}
                    result.rows.append(row)
                    series.append(row)
                    if case.outputs.fields:
                        writer.write(bp.time)
                    done = i + 1
                    save_checkpoint()
                    self.log(f"[{done}/{len(points)}] t = {bp.time:.4g} s, "
                             f"V = {bp.voltage:+.3f} V: {_headline(row)} "
                             f"({rep.newton_iterations} Newton its, {rep.rejected} rejected, "
                             f"{time.perf_counter() - t0:.1f} s)")
                    # every rank must agree to stop at the same point, or the others would hang
                    signum = self.comm.allreduce(stop.signal or 0, op=MPI.MAX)
                    if signum and done < len(points):
                        raise Interrupted(
                            f"stopped by signal {signum} after bias point {done}/"
                            f"{len(points)}; outputs and checkpoint are in {self.out}; continue "
                            f"with: ecx-device run CASE --restart {self.out}", signum)
        finally:
            result.wall_time = time.perf_counter() - wall0
            write_json(self.out / "results.json", {
                "case": case.name, "smoke": self.smoke, "degrees_of_freedom": dofs,
                "wall_time [s]": result.wall_time, "bias_points_completed": done,
                "bias_points": len(points), "complete": done == len(points),
                "final": result.rows[-1] if result.rows else None}, self.comm.rank)
        if case.outputs.plots and result.rows:
            write_plots(self.out, ctx, result.rows, case)
        self.log(f"done in {result.wall_time:.1f} s; outputs in {self.out}")
        return result

    def run_iv(self) -> RunResult:
        """I-V sweep at frozen composition (the case's ``iv`` section): ``iv.csv`` (one row per
        bias, quantities as in a run), ``iv.png`` (linear and log |I|) and, at
        ``iv.field_biases``, fields in ``fields/fields.pvd`` with the bias (V) as the time axis.

        Raises:
            SolverError: a bias cannot be reached (rows so far are on disk).
            Interrupted: SIGINT/SIGTERM (rows so far are on disk; rerun to repeat the sweep).
        """
        from ecx_device.outputs.plots import iv_plot

        wall0 = time.perf_counter()
        case = self.case
        self._write_provenance()
        ctx, problem, modules = self.build()
        ctx.domain.write_markers(self.out / "markers.json")
        biases = case.iv.biases()
        if self.smoke:  # both ends and a few points between
            k = max(1, len(biases) // (2 * case.smoke.max_bias_points + 1))
            biases = sorted(set(biases[::k]) | {biases[0], biases[-1]},
                            key=biases.index)
        wanted = {round(v, 9) for v in case.iv.field_biases}
        written: set[float] = set()
        series = SeriesWriter(self.out / "iv.csv", self.comm.rank)
        writer = (self._field_writers(ctx, modules, problem)
                  if wanted and case.outputs.fields else contextlib.nullcontext())
        self.log(f"I-V sweep: {len(biases)} biases from {biases[0]:+.3f} V to {biases[-1]:+.3f} V"
                 f"{' and back' if case.iv.return_sweep else ''}")
        with writer, StopOnSignal() as stop:
            for i, v in enumerate(biases, 1):
                rep = continue_bias(problem, v, max_step=case.solver.max_bias_step,
                                    min_step=case.solver.min_bias_step,
                                    bounds={"T": (0.0, case.solver.max_temperature)})
                row = {"bias [V]": v, **problem.quantities(),
                       "newton_iterations [-]": rep.newton_iterations,
                       "rejected_steps [-]": rep.rejected}
                series.append(row)
                key = round(v, 9)
                if key in wanted and key not in written:  # first pass only: one step per bias
                    writer.write(v)
                    written.add(key)
                self.log(f"[{i}/{len(biases)}] V = {v:+.3f} V: {_headline(row)}")
                if self.comm.allreduce(stop.signal or 0, op=MPI.MAX):
                    raise Interrupted(f"I-V sweep stopped after {i}/{len(biases)} biases; rows "
                                      f"so far are in {self.out / 'iv.csv'}",
                                      stop.signal or signal.SIGTERM)
        result = RunResult(self.out, rows=series.rows,
                           dofs=sum(V.dofmap.index_map.size_global
                                    for V in problem.spaces.values()),
                           wall_time=time.perf_counter() - wall0)
        write_json(self.out / "results.json", {
            "case": case.name, "kind": "iv", "smoke": self.smoke,
            "degrees_of_freedom": result.dofs, "wall_time [s]": result.wall_time,
            "biases": len(biases), "complete": True}, self.comm.rank)
        if case.outputs.plots and self.comm.rank == 0:
            iv_plot(self.out / "iv.png", result.rows, case.name)
        self.log(f"done in {result.wall_time:.1f} s; I-V table in {self.out / 'iv.csv'}")
        return result

    def _field_writers(self, ctx: Context, modules: list, problem,
                       continue_series: bool = False):
        """``fields/fields.pvd`` for the unknowns of ``ctx``; a self-heated drift-diffusion run
        adds ``device_fields/fields.pvd``, the temperature and heat source on the whole device
        (metals included; ``fields/`` holds the wire alone)."""
        from ecx_device.outputs.fields import FieldWriter, FieldWriters

        writers = [FieldWriter(self.out / "fields", ctx, modules, UNKNOWN_NAMES,
                               continue_series=continue_series)]
        if isinstance(problem, SelfHeatingProblem):
            writers.append(FieldWriter(self.out / "device_fields", problem.heat.ctx,
                                       problem.heat.modules, UNKNOWN_NAMES,
                                       continue_series=continue_series))
        return FieldWriters(writers)

    def _write_provenance(self) -> None:
        """Resolved case (SI), references used, versions and command line."""
        if self.comm.rank != 0:
            return
        case = self.case
        resolved = {"# note": "all values in SI units (m, s, K, V, W/(m K), S/m); angles in rad",
                    **case.model_dump(mode="json", by_alias=True)}
        (self.out / "case.resolved.yaml").write_text(yaml.safe_dump(resolved, sort_keys=False))
        mats = region_materials(case)
        if case.composition.shape == "none" and not case.exchange.enabled:
            mats.pop("wire_exchanged")
        keys = sorted({k for m in mats.values() for k in m.sources()})
        refs = references()
        write_json(self.out / "references.json", {k: refs[k] for k in keys})
        write_json(self.out / "provenance.json", {
            "ecx_device": __version__, "python": sys.version.split()[0],
            "platform": platform.platform(), "dependencies": _dependency_versions(),
            "command": sys.argv, "mpi_ranks": self.comm.size,
            "materials": {r: m.name for r, m in mats.items()}})


def _headline(row: dict[str, float]) -> str:
    """The progress-line summary of a row: current, and the hot spot when heat is solved."""
    text = f"I = {row['current [A]']:.4g} A"
    if "wire_T_max [K]" in row:
        text += (f", T_max = {row['wire_T_max [K]']:.1f} K at z = "
                 f"{row['wire_T_max_axial_position [nm]']:.1f} nm")
    return text


def _dependency_versions() -> dict[str, str]:
    """Installed versions of the packages a result depends on."""
    from importlib import metadata

    out = {}
    for pkg in ("dolfinx-solver-real", "fenics-dolfinx", "fenics-basix", "fenics-ffcx",
                "fenics-ufl", "petsc4py", "mpi4py", "gmsh", "numpy", "pydantic", "pint",
                "meshio", "pyvista"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            continue
    return out
