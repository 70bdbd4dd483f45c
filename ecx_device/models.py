"""The model switch: the one place that reads a case's model flags and builds what is solved.

A :class:`~ecx_device.case.schema.Case` goes in; out come the meshes, the physics modules of
each mesh, the coupling strategy and the anode kinetics (:func:`build_model`). The flags
``electrical.wire_model``, ``electrical.self_heating``, ``exchange.enabled``,
``exchange.cu_source``, ``exchange.kinetics``, ``composition.shape`` and whether the geometry is a
``particle`` are read here (:func:`choose`) and nowhere else in the run layer.

The electrical models:

- ``ohmic``: current continuity with sigma(T, X) and heat conduction on the whole device, one
  block Newton problem (:mod:`ecx_device.physics.ohmic`, :mod:`ecx_device.physics.heat`);
- ``drift_diffusion``: Poisson and electron/hole continuity on the wire (a submesh), metals
  equipotential; with ``self_heating`` the carrier heat drives heat conduction on the whole
  device, coupled by fixed-point iteration (:mod:`ecx_device.solvers.fixed_point`, the
  default) or one monolithic Newton iteration (:mod:`ecx_device.solvers.electrothermal_newton`;
  ``solver.electrothermal_coupling``), else isothermal.

A ``geometry.particle`` (sphere or rod, no electrodes) has no electrical model: a held temperature
and the front kinetics (:mod:`ecx_device.particle_model`).

With ``exchange.enabled`` the ions (Cu+, vacancies, X) live on the wire mesh and are coupled to
either electrical model by operator splitting (:mod:`ecx_device.solvers.splitting`) through a
:class:`~ecx_device.solvers.splitting.FieldLink` built here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from ecx_device.case.schema import Case
from ecx_device.composition import CompositionProfile
from ecx_device.device.from_case import (WIRE_EXCHANGED, anode_equilibrium_voltage,
                                         boundary_conductances, case_anode_metal,
                                         device_geometry, exchange_free_energy,
                                         exchange_metal, region_materials)
from ecx_device.device.geometry import DeviceGeometry
from ecx_device.device.names import Facet, Region
from ecx_device.errors import CaseError
from ecx_device.fem import MPI, dolfinx
from ecx_device.materials import Material, anode_metal
from ecx_device.mesh import Domain
from ecx_device.outputs.profiles import shell_thickness
from ecx_device.particle_model import build_particle
from ecx_device.physics.base import Context
from ecx_device.physics.composition_output import CompositionOutput
from ecx_device.physics.exchange import (AnodeKinetics, CationExchange, CuSupply,
                                         ExchangeOutput, SublimationCooling,
                                         ionic_charge_density)
from ecx_device.physics.heat import CONDUCTANCE_CONSTANTS, BeamHeating, HeatConduction
from ecx_device.physics.ion_transport import shell_criterion
from ecx_device.physics.ohmic import OhmicConduction
from ecx_device.physics.wire_semiconductor import drift_diffusion_modules
from ecx_device.solvers.continuation import equilibrium_start
from ecx_device.solvers.electrothermal_newton import ElectroThermalNewton
from ecx_device.solvers.fixed_point import SelfHeatingProblem
from ecx_device.solvers.newton import (
    SCALED_RESIDUAL_FLOOR,
    WEIGHTED_UPDATE_RESIDUAL,
    ConvergenceGroup,
    CoupledProblem,
)
from ecx_device.solvers.problem import Problem
from ecx_device.units import MESH_UNIT
from ecx_device.solvers.splitting import ExchangeSplitting, FieldLink, StepLimits

#: Options of the ion step's Newton solve. Its residual is in SI (per-site rates times m^3:
#: ~1e-35 for a trickle of Cu), so PETSc's absolute test would stop it at once: off here, and
#: convergence judged on the residual (an ion step has no Dirichlet jump, and its unknowns can be
#: tiny, c ~ 1e-9, so a relative update test stops too early).
#: ``snes_vi_zero_tolerance``: PETSc's VI Newton counts a variable within 1e-8 of its bound as
#: at the bound (active, frozen for the iteration) when the residual pushes it outward; the ion
#: unknowns live at 1e-15-1e-8 per site, so an X or c that had to decrease stayed put (measured:
#: a gold anode's X stuck at 7.2e-15 with its X residual 1e-30, the largest of the four). Now
#: only a variable within 1e-30 of its bound (2e-2 ions per m^3) can be active.
ION_PETSC_OPTIONS = {"snes_rtol": 1e-14, "snes_atol": 0.0, "snes_stol": 1e-14,
                     "snes_linesearch_type": "basic", "snes_vi_zero_tolerance": 1e-30}

#: Line search of the split ion step's second try, when full Newton steps failed. Full steps
#: first: with PETSc's backtracking search from the start, the thermal cases' steps were cut to
#: lambda ~ 0.1 for ~10 iterations (wurtzite CdSe at 400 degC), where full steps converge in 2-3.
ION_FALLBACK_LINESEARCH = "bt"

#: Bounds of the ion unknowns (per S site): the ion step is solved as a variational inequality,
#: so no iterate has a negative concentration or a fraction outside [0, 1] (docs/model.md 8.3).
ION_BOUNDS = {"c": (0.0, None), "v": (0.0, 1.0), "X": (0.0, 1.0), "cd": (0.0, 1.0)}


@dataclass(frozen=True)
class ModelChoice:
    """What a case solves, decided from its flags (no meshes, no DOLFINx objects).

    Attributes:
        wire_model: ``ohmic`` or ``drift_diffusion``.
        heat: The temperature is solved (ohmic model, or the self-heated drift-diffusion wire).
        coupling: ``newton`` (one Newton problem: the ohmic device, or the self-heated
            drift-diffusion wire with ``solver.electrothermal_coupling: newton``) or
            ``fixed_point`` (drift-diffusion on the wire and heat on the device, iterated), plus
            ``+splitting`` for the exchange.
        exchange: The composition evolves in time (ions on the wire).
        composition: An exchanged fraction X exists (prescribed or evolving).
        ions_with_carriers: Each ion step solves the ions, Poisson and the carriers in one
            Newton problem (``solver.ion_coupling: monolithic`` on the drift-diffusion wire);
            else the ions move in the potential of the last electrical solve.
    """

    wire_model: str
    heat: bool
    coupling: str
    exchange: bool
    composition: bool
    ions_with_carriers: bool = False

    def describe(self) -> str:
        """One line for the run log."""
        if self.wire_model == "none":
            return ("model: particle without electrodes at the set temperature; exchange: "
                    "front kinetics, guest and X on the particle (operator splitting)")
        wire = ("drift-diffusion wire (metals equipotential), " + (
            "self-heated: heat on the whole device" if self.heat else "isothermal")
            if self.wire_model == "drift_diffusion" else "ohmic electro-thermal device")
        ions = ("; exchange: the anode's ion, vacancies, X and displaced Cd on the wire, "
                + ("solved with Poisson and the carriers" if self.ions_with_carriers
                   else "in the field of the last electrical solve")) if self.exchange else ""
        return f"model: {wire}; coupling {self.coupling}{ions}"


def choose(case: Case) -> ModelChoice:
    """The model of ``case`` (the only reader of the model flags)."""
    if case.geometry.particle is not None:  # no electrodes: a held temperature, front kinetics
        return ModelChoice("none", False, "none+splitting", True, True)
    dd = case.electrical.wire_model == "drift_diffusion"
    heat = not dd or case.electrical.self_heating
    if not heat and case.thermal.beam_heating > 0:
        raise CaseError(f"thermal.beam_heating = {case.thermal.beam_heating:g} W/m^3: the "
                        "isothermal wire (electrical.self_heating: false) solves no heat; "
                        "expected self_heating: true or no beam heating")
    coupling = ("newton" if case.solver.electrothermal_coupling == "newton" else "fixed_point") \
        if dd and heat else "newton"
    exchange = case.exchange.enabled
    if exchange:
        coupling += "+splitting"
    s = case.solver
    p1_carriers = s.carrier_flux == "eafe" or s.element_degree == 1
    return ModelChoice(case.electrical.wire_model, heat, coupling, exchange,
                       composition=exchange or case.composition.shape != "none",
                       ions_with_carriers=(exchange and dd and p1_carriers
                                           and s.ion_coupling == "monolithic"))


def anode_kinetics(case: Case) -> AnodeKinetics | None:
    """Butler-Volmer data of the case's anode metal (None when Cu comes from elsewhere).

    Raises:
        CaseError: an unknown anode metal (naming ``exchange.anode``).
    """
    metal = case_anode_metal(case)
    if metal is None:
        return None
    # the ion's transport relative to Cu+'s, whose absolute data are the host's (Sullivan)
    cu = anode_metal("Cu")
    return AnodeKinetics(equilibrium_voltage=anode_equilibrium_voltage(case, metal),
                         exchange_current=metal.exchange_current,
                         transfer_coefficient=metal.transfer_coefficient,
                         charge_number=metal.ion_charge,
                         diffusivity_prefactor_ratio=(metal.ion_diffusivity_prefactor
                                                      / cu.ion_diffusivity_prefactor),
                         migration_energy_shift=(metal.ion_migration_energy
                                                 - cu.ion_migration_energy))


@dataclass
class FieldSeries:
    """One ParaView series: a folder name, the context whose fields it writes, its modules."""

    folder: str
    ctx: Context
    modules: list


@dataclass
class DeviceModel:
    """A case's built model.

    Attributes:
        choice: What is solved (:func:`choose`).
        ctx: Context of the electrical problem's main mesh (the wire for drift-diffusion).
        electrical: The electro-thermal problem.
        splitting: The exchange splitting (None without exchange).
        series: The field series a run writes.
        heat_ctx: Context holding the temperature (None when heat is not solved).
    """

    choice: ModelChoice
    ctx: Context
    electrical: Problem
    splitting: ExchangeSplitting | None = None
    series: list[FieldSeries] = field(default_factory=list)
    heat_ctx: Context | None = None

    @property
    def problem(self) -> Problem:
        """What the run loop advances: the splitting, or the electrical problem."""
        return self.splitting if self.splitting is not None else self.electrical

    @property
    def dofs(self) -> int:
        """Global degrees of freedom of every unknown."""
        spaces = {id(f.function_space): f.function_space for f in self.problem.u.values()}
        return sum(V.dofmap.index_map.size_global for V in spaces.values())

    def close(self) -> None:
        """Destroy the PETSc objects (collective, same order on every rank)."""
        self.problem.close()


def mesh_device(case: Case, geom: DeviceGeometry, comm) -> Domain:
    """The device mesh: gmsh from the geometry, or the case's ``geometry.mesh_file``.

    Raises:
        CaseError: a mesh file lacking the wire region or the two sink facet groups.
    """
    if not case.geometry.mesh_file:  # (a particle is always meshed from its geometry)
        return Domain.from_geometry(geom, comm)
    domain = Domain.from_msh(case.geometry.mesh_file, case.geometry.dimension,
                             case.geometry.wire.diameter, comm)
    missing = [n for n in (Region.WIRE,) if n not in domain.cells] + [
        n for n in (Facet.CU_SINK, Facet.W_SINK) if n not in domain.facets]
    if missing:
        raise CaseError(f"geometry.mesh_file = {case.geometry.mesh_file!r}: lacks the named "
                        f"group(s) {', '.join(missing)}")
    # a file's contact layers (written by `ecx-device mesh` with a finite conductance) are as
    # thick as the case says
    domain.layer_thickness = geom.contact_layer_thickness * MESH_UNIT
    return domain


def build_model(case: Case, comm=MPI.COMM_WORLD, *, mesh_scale: float = 1.0,
                log=None) -> DeviceModel:
    """Mesh the device and build the case's model (module docstring).

    Args:
        case: The validated case.
        comm: MPI communicator.
        mesh_scale: Factor on the mesh sizes (smoke runs).
        log: Progress printer, or None.
    """
    choice = choose(case)
    geom = device_geometry(case, mesh_scale)
    t0 = time.perf_counter()
    device = mesh_device(case, geom, comm)
    if log:
        cells = comm.allreduce(device.mesh.topology.index_map(device.mesh.topology.dim)
                               .size_local, op=MPI.SUM)
        log(f"mesh: {case.geometry.dimension}, {cells} cells ({time.perf_counter() - t0:.1f} s)")
        log(choice.describe())
    materials = region_materials(case)
    if log:
        _log_subsurface(case, geom, materials[Region.WIRE], log)
    exchanged = materials.pop(WIRE_EXCHANGED)
    if choice.wire_model == "none":
        return _particle(case, choice, device, geom, materials, exchanged, mesh_scale)
    if case.exchange.kinetics == "front":
        raise CaseError("exchange.kinetics = 'front': needs geometry.particle (donor contacts "
                        "or a bath); expected kinetics: bulk on the device")
    builder = _drift_diffusion if choice.wire_model == "drift_diffusion" else _ohmic
    return builder(case, choice, device, geom, materials, exchanged)


def _log_subsurface(case: Case, geom, wire: Material, log) -> None:
    """The sub-surface layer in the run log: not modelled in 1D, else its shell criterion
    (t_axial along the layer over the wire's free length against t_radial across the radius)
    at 600 and 800 K, the range where Cu crosses the wire in about a second (parameters.md 3)."""
    spec = case.geometry.wire
    if spec is None or spec.subsurface_thickness is None:
        return
    if not getattr(geom, "has_subsurface", False) or case.geometry.mesh_file:
        log("sub-surface layer: not modelled (a 1d mesh has no radius, a mesh file no layer); "
            "the wire's transport is the bulk's")
        return
    log(f"sub-surface layer: {spec.subsurface_thickness * 1e9:g} nm, {geom.subsurface_size:.3g} "
        "nm cells")
    for T in (600.0, 800.0):
        log(shell_criterion(wire, T, spec.free_length, spec.diameter / 2).describe())


def _particle(case: Case, choice: ModelChoice, device: Domain, geom, materials, exchanged,
              mesh_scale: float) -> DeviceModel:
    """A particle without electrodes: a held temperature and the front kinetics
    (:mod:`ecx_device.particle_model`); fields: X and the cation densities."""
    parts = build_particle(case, geom, device, materials, exchanged, mesh_scale)
    model = DeviceModel(choice, parts.ctx, parts.electrical, splitting=parts.splitting)
    model.series.append(FieldSeries("fields", parts.output_ctx, parts.output_modules))
    return model


def _context(case: Case, choice: ModelChoice, domain: Domain, materials: dict[str, Material],
             exchanged: Material, geom: DeviceGeometry) -> Context:
    """Context of one mesh with the case's thermal constants and its composition X (P1)."""
    th = case.thermal
    ctx = Context.create(domain, materials, bias=0.0,
                         heat_sink_temperature=th.heat_sink_temperature,
                         radiation_temperature=th.radiation_temperature,
                         emissivity=th.emissivity)
    for facet, g in boundary_conductances(case).items():  # absent: perfect thermal contact
        ctx.constants[CONDUCTANCE_CONSTANTS[facet]] = dolfinx.fem.Constant(domain.mesh, g)
    if not choice.composition:
        return ctx
    ctx.exchanged = {Region.WIRE: exchanged}
    V = dolfinx.fem.functionspace(domain.mesh, ("Lagrange", 1))
    ctx.composition = dolfinx.fem.Function(V, name="exchanged_fraction [-]")
    spec = case.composition
    if spec.shape != "none":  # else a pristine wire whose X evolves from 0
        profile = CompositionProfile(spec, geom.wire_diameter / 2, geom.wire_free_length,
                                     geom.cu_contact_length)
        ctx.composition.interpolate(lambda x: profile.on_mesh(x, case.geometry.dimension))
    return ctx


def _beam(case: Case) -> list[BeamHeating]:
    """The electron beam's heat source in the wire, if the case sets one."""
    q = case.thermal.beam_heating
    return [BeamHeating(q)] if q > 0 else []


def _sublimation_cooling(case: Case, choice: ModelChoice, materials) -> SublimationCooling | None:
    """The heat carried off by sublimating Cd (exchange runs that sublimate, with a wire material
    that knows the release enthalpy)."""
    if choice.exchange and case.exchange.sublimation \
            and "cd_release_enthalpy" in materials[Region.WIRE].properties:
        return SublimationCooling()
    return None


def _newton(case: Case, ctx: Context, modules: list, degree: int | None = None) -> CoupledProblem:
    s = case.solver
    return CoupledProblem(ctx, modules, degree=degree or s.element_degree,
                          tolerance=s.newton_tolerance, max_iterations=s.newton_max_iterations,
                          petsc_options=s.petsc_options)


def _ohmic(case: Case, choice: ModelChoice, device: Domain, geom: DeviceGeometry,
           materials: dict[str, Material], exchanged: Material) -> DeviceModel:
    """The ohmic electro-thermal device, with the exchange on its wire if enabled."""
    ctx = _context(case, choice, device, materials, exchanged, geom)
    modules = [OhmicConduction(), HeatConduction(), *_beam(case)]
    if choice.composition:
        modules.append(CompositionOutput(exchange_metal(case).metal_per_sulfur))
    cooling = _sublimation_cooling(case, choice, materials)
    if cooling is not None:
        modules.append(cooling)
    problem = _newton(case, ctx, modules)
    model = DeviceModel(choice, ctx, problem, heat_ctx=ctx)
    model.series.append(FieldSeries("fields", ctx, modules))
    if choice.exchange:
        wire, cells = device.restrict(Region.WIRE)
        P1 = ctx.composition.function_space
        c_out = cooling.c if cooling else dolfinx.fem.Function(P1, name="c")
        v_out = cooling.v if cooling else dolfinx.fem.Function(P1, name="v")
        cd_out = dolfinx.fem.Function(P1, name="cd")
        ictx = _ion_context(case, wire, materials, exchanged)
        Vw = dolfinx.fem.functionspace(wire.mesh, ("Lagrange", case.solver.element_degree))
        phi, T = dolfinx.fem.Function(Vw, name="psi"), dolfinx.fem.Function(Vw, name="T")
        # An ohmic wire has no drop at its contacts: the anode kinetics see the whole cell
        # voltage (V_m against the grounded W) as the local drop, phi_n = 0 (docs/model.md 8.2).
        ictx.fields.update({"psi": phi, "phi_n": ictx.constants["ground"], "T": T})

        def pull() -> None:
            cells.to_sub(ctx.fields["phi"], phi)
            cells.to_sub(ctx.fields["T"], T)

        def push(X, c, v) -> None:
            cells.to_parent(X, ctx.composition)
            cells.to_parent(c, c_out)
            cells.to_parent(v, v_out)
            if model.splitting is not None:  # (not yet while the splitting is being built)
                cells.to_parent(model.splitting.ions.u["cd"], cd_out)

        model.splitting = _splitting(case, problem, ictx, materials, FieldLink(pull, push, T),
                                     lambda X: cells.to_sub(ctx.composition, X))
        model.series[0].modules.append(ExchangeOutput(c_out, v_out, cd_out))
    return model


def _drift_diffusion(case: Case, choice: ModelChoice, device: Domain, geom: DeviceGeometry,
                     materials: dict[str, Material], exchanged: Material) -> DeviceModel:
    """The drift-diffusion wire (self-heated or isothermal), with the exchange if enabled."""
    th, s = case.thermal, case.solver
    wire, cells = device.restrict(Region.WIRE)
    wire_materials = {Region.WIRE: materials[Region.WIRE]}
    ctx = _context(case, choice, wire, wire_materials, exchanged, geom)
    if choice.heat:  # the wire temperature the semiconductor data follow
        V = dolfinx.fem.functionspace(wire.mesh, ("Lagrange", s.element_degree))
        ctx.fields["T"] = dolfinx.fem.Function(V, name="T")
        ctx.fields["T"].x.array[:] = th.heat_sink_temperature
    ions = _given_ions(case, wire, materials) if choice.exchange else None
    modules = _carrier_modules(case, materials, exchanged, ctx, ions[2] if ions else None)
    if choice.composition:
        modules.append(CompositionOutput(exchange_metal(case).metal_per_sulfur))
    degree = 1 if s.carrier_flux == "eafe" else s.element_degree  # edge fluxes join P1 nodes
    carriers = _newton(case, ctx, modules, degree)
    equilibrium_start(ctx, modules, degree, s.petsc_options)
    model = DeviceModel(choice, ctx, carriers)
    model.series.append(FieldSeries("fields", ctx, modules))
    cooling = _sublimation_cooling(case, choice, materials)
    if choice.heat:
        device_ctx = _context(case, choice, device, materials, exchanged, geom)
        # the one switch between the two electro-thermal couplings (same protocol, same state)
        coupled = (ElectroThermalNewton if s.electrothermal_coupling == "newton"
                   else SelfHeatingProblem)
        model.electrical = coupled.create(
            carriers, device_ctx, cells, degree=s.element_degree,
            tolerance=s.electrothermal_tolerance, max_iterations=s.electrothermal_max_iterations,
            newton_tolerance=s.newton_tolerance, newton_max_iterations=s.newton_max_iterations,
            petsc_options=s.petsc_options,
            heat_modules=([cooling] if cooling else []) + _beam(case))
        model.heat_ctx = device_ctx
        model.series.append(FieldSeries("device_fields", device_ctx,
                                        model.electrical.heat.modules))
    if choice.exchange:
        model.splitting = _dd_splitting(case, model, wire, cells, materials, exchanged, ions,
                                        cooling if choice.heat else None, carriers)
    return model


def _carrier_modules(case: Case, materials, exchanged: Material, ctx: Context,
                     fixed_charge) -> list:
    """The drift-diffusion modules of the wire on ``ctx`` (Poisson, carriers, contacts), their
    lattice temperature ``ctx.fields["T"]`` if set; ``fixed_charge`` as in
    :class:`~ecx_device.physics.poisson.Poisson`."""
    one_d = case.geometry.dimension == "1d"
    interfaces = (Facet.CU_SINK, Facet.W_SINK) if one_d else (Facet.CU_WIRE, Facet.W_WIRE)
    metals = dict(zip(interfaces, (case.materials.cu_electrode, case.materials.w_tip)))
    e = case.electrical
    return drift_diffusion_modules(
        materials[Region.WIRE], metals, case.thermal.heat_sink_temperature,
        exchanged=exchanged, ctx=ctx, image_force=e.image_force, tunnelling=e.tunnelling,
        statistics=e.statistics, lattice_temperature=ctx.fields.get("T"), peltier=e.peltier,
        fixed_charge=fixed_charge, carrier_flux=case.solver.carrier_flux)


def _given_ions(case: Case, wire: Domain, materials) -> tuple:
    """Copies of the ion densities c, v (P1 on the wire, per S site) that the electrical solve
    reads, and the space charge they carry (Poisson's fixed charge)."""
    V = dolfinx.fem.functionspace(wire.mesh, ("Lagrange", 1))
    c, v = dolfinx.fem.Function(V, name="c_given"), dolfinx.fem.Function(V, name="v_given")
    return c, v, ionic_charge_density(c, v, *_site_density_and_charge(case, materials))


def _site_density_and_charge(case: Case, materials) -> tuple[float, int]:
    """S sites per m^3 of the wire and the charge number of the anode's ion."""
    anode = anode_kinetics(case)
    site_density = float(materials[Region.WIRE]("sulfur_site_density",
                                                case.thermal.heat_sink_temperature))
    return site_density, anode.charge_number if anode is not None else 1


def _dd_splitting(case: Case, model: DeviceModel, wire: Domain, cells, materials, exchanged,
                  given: tuple, cooling, carriers: CoupledProblem):
    """The exchange on the drift-diffusion wire: the ions share the carriers' wire mesh, so they
    read the wire temperature directly, and psi, phi_n either directly (split) or as unknowns of
    their own step (monolithic: the ion problem holds a second copy of the carrier modules, its
    Poisson charged by the ion unknowns); the electrical problem reads X and the ions' space
    charge through copies (``given``) refreshed before each electrical solve."""
    ctx = model.ctx
    ictx = _ion_context(case, wire, materials, exchanged)
    T = ctx.fields.get("T", ctx.constants["heat_sink_temperature"])
    if "T" in ctx.fields:
        ictx.fields["T"] = T
    extra: list = []
    if model.choice.ions_with_carriers:
        ictx.composition = ctx.composition  # the carriers' data follow the solved X
        N, z = _site_density_and_charge(case, materials)
        extra = _carrier_modules(case, materials, exchanged, ictx,
                                 lambda f: ionic_charge_density(f["c"], f["v"], N, z))
    else:
        ictx.fields.update({"psi": ctx.fields["psi"], "phi_n": ctx.fields["phi_n"]})
    heat_ctx = model.heat_ctx

    c_given, v_given, _ = given

    def push(X, c, v) -> None:
        ctx.composition.x.array[:] = X.x.array
        c_given.x.array[:] = c.x.array
        v_given.x.array[:] = v.x.array
        if heat_ctx is not None:
            cells.to_parent(X, heat_ctx.composition)
        if cooling is not None:  # the sublimating Cd cools the device's wire surface
            cells.to_parent(c, cooling.c)
            cells.to_parent(v, cooling.v)

    def initial_X(X) -> None:
        X.x.array[:] = ctx.composition.x.array

    splitting = _splitting(case, model.electrical, ictx, materials,
                           FieldLink(lambda: None, push, T), initial_X, extra,
                           carriers if extra else None)
    model.series[0].modules.append(ExchangeOutput(splitting.ions.u["c"], splitting.ions.u["v"],
                                                  splitting.ions.u["cd"]))
    if model.choice.heat:  # the ions' Joule heat heats the wire too
        model.electrical.cell_heat.add_density(splitting.module.ion_heat_density(ictx))
    return splitting


def _ion_context(case: Case, wire: Domain, materials, exchanged: Material) -> Context:
    ictx = Context.create(wire, {Region.WIRE: materials[Region.WIRE]},
                          heat_sink_temperature=case.thermal.heat_sink_temperature)
    ictx.exchanged = {Region.WIRE: exchanged}
    return ictx


def _splitting(case: Case, electrical: Problem, ictx: Context, materials, link: FieldLink,
               initial_X, carrier_modules: list = (), carriers: CoupledProblem | None = None
               ) -> ExchangeSplitting:
    """The ion problem on ``ictx``'s wire and its splitting with ``electrical``; ``initial_X``
    fills the ions' X (P1 on the wire) with the starting composition. With
    ``carrier_modules`` the ion step solves them too (monolithic), and ``carriers`` is the
    electrical problem's carrier problem it trades the carrier unknowns with."""
    spec, s = case.exchange, case.solver
    one_d = case.geometry.dimension == "1d"
    wire = materials[Region.WIRE]
    module = CationExchange(
        Facet.CU_SINK if one_d else Facet.CU_WIRE, Facet.W_SINK if one_d else Facet.W_WIRE,
        anode_kinetics(case),
        site_density=float(wire("sulfur_site_density", case.thermal.heat_sink_temperature)),
        reduction_velocity=spec.cathode_reduction_velocity,
        supply=CuSupply(Facet.WIRE_SURFACE) if spec.cu_source == "surface" else None,
        sublimation=spec.sublimation, reaction_free_energy=exchange_free_energy(case),
        metal_per_sulfur=exchange_metal(case).metal_per_sulfur)
    groups = None
    if carrier_modules:  # ions and carriers: each judged in its own units
        names = [n for m in carrier_modules for n in m.unknowns]
        # the carriers start converged (first residual ~2e-13, scaled): only their round-off floor
        # can end their part; an update test alone ran 40 iterations on a walk of phi_p where p
        # was negligible (Li anode, 2 V, 500 K)
        groups = [ConvergenceGroup(tuple(dict.fromkeys(names)), 0.0, s.newton_tolerance,
                                   SCALED_RESIDUAL_FLOOR, WEIGHTED_UPDATE_RESIDUAL),
                  ConvergenceGroup(module.unknowns, ION_PETSC_OPTIONS["snes_rtol"],
                                   ION_PETSC_OPTIONS["snes_stol"])]
    # the monolithic step takes full steps only: PETSc's backtracking search under the VI solver
    # left a vector read-locked with the fitted carriers' assembly hook (PETSc error 73)
    ions = CoupledProblem(ictx, [*carrier_modules, module], degree=1, tolerance=1e-15,
                          max_iterations=s.newton_max_iterations,
                          petsc_options={**ION_PETSC_OPTIONS, **s.petsc_options},
                          bounds=ION_BOUNDS, groups=groups,
                          fallback_linesearch=None if carrier_modules else ION_FALLBACK_LINESEARCH)
    initial_X(ions.u["X"])  # the prescribed composition, if any, is the initial X
    limits = StepLimits(max_fraction_change=spec.max_fraction_change,
                        time_error_tolerance=spec.time_error_tolerance,
                        max_temperature_change=spec.max_temperature_change,
                        max_bias_step=s.max_bias_step, min_bias_step=s.min_bias_step,
                        max_temperature=s.max_temperature,
                        ionic_charge=(case.electrical.wire_model == "drift_diffusion"
                                      and not carrier_modules))
    radius = case.geometry.wire.diameter / 2
    dim = case.geometry.dimension
    return ExchangeSplitting(electrical, ions, module, link, limits, spec.stations,
                             lambda X, z: shell_thickness(X, z, radius, dim), carriers)
