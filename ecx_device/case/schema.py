"""Typed schema of a case file (pydantic v2).

Every physical input is written with its unit in the file ("40 nm", "1.0 V", "300 K") and is
converted once, here, to SI floats. Downstream code never sees a unit string.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from collections.abc import Mapping
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr,
                      model_validator)

from ecx_device.case.protocol import BiasProtocol
from ecx_device.errors import CaseError
from ecx_device.units import to_si


def _quantity(unit: str, *, positive: bool = False, nonnegative: bool = False):
    """A float field read from a unit-bearing string and stored in SI units of ``unit``."""

    def parse(value: object) -> float:
        return to_si(value, unit)

    def check(value: float) -> float:
        if positive and not value > 0:
            raise ValueError(f"must be positive (in {unit})")
        if nonnegative and not value >= 0:
            raise ValueError(f"must not be negative (in {unit})")
        return value

    return Annotated[float, BeforeValidator(parse), AfterValidator(check)]


Length = _quantity("m", positive=True)
NonNegativeLength = _quantity("m", nonnegative=True)
Temperature = _quantity("K", positive=True)
Voltage = _quantity("V")
Angle = _quantity("deg", positive=True)
Duration = _quantity("s", positive=True)
NonNegativeTime = _quantity("s", nonnegative=True)
Speed = _quantity("m/s", positive=True)
TemperatureChange = _quantity("K", positive=True)
Concentration = _quantity("mol/m^3", positive=True)
PowerDensity = _quantity("W/m^3", nonnegative=True)


def _boundary_conductance(value: object) -> float | str | None:
    """A thermal boundary conductance: a value with its unit (stored in W m^-2 K^-1),
    ``sourced`` (the materials data's value for the case's metal and wire, resolved in
    device/from_case.py), or ``infinite`` / ``perfect`` (None: continuous temperature)."""
    if value is None or (isinstance(value, str) and value.strip() in ("infinite", "perfect")):
        return None
    if isinstance(value, str) and value.strip() == "sourced":
        return "sourced"
    g = to_si(value, "W/(m^2 K)")
    if not g > 0:
        raise ValueError("must be positive (in W/(m^2 K)), 'sourced' or 'infinite'")
    return g


BoundaryConductance = Annotated[float | str | None, BeforeValidator(_boundary_conductance)]


class Section(BaseModel):
    """Base of every case section: unknown keys are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class WireSpec(Section):
    """The nanowire (lengths in m after loading)."""

    diameter: Length
    free_length: Length = Field(description="from the Cu surface to the wire's far end")
    cu_contact_length: Length = Field(description="length of wire embedded in the Cu electrode")
    subsurface_thickness: Length | None = Field(
        None, description="thickness of a resolved sub-surface layer of its own ion transport "
        "under the lateral surface, 1-2 nm (e.g. '1.5 nm'); axisymmetric and 3d only (not "
        "modelled in 1d); default none")


class CuElectrodeSpec(Section):
    """The Cu anode: a disk the wire is embedded in; its far face is the heat sink."""

    radius: Length
    thickness: Length


class WTipSpec(Section):
    """The W tip: a cone with a spherical apex touching the wire's far end."""

    apex_radius: Length
    cone_half_angle: Angle
    height: Length
    contact_depth: Length = Field(description="overlap of the apex sphere with the wire end")


class MeshSpec(Section):
    """Element sizes (m)."""

    wire_size: Length
    contact_size: Length
    metal_size: Length
    subsurface_size: Length | None = Field(
        None, description="element size in the sub-surface layer; default a third of its "
        "thickness")
    front_size: Length | None = Field(
        None, description="element size at the prescribed composition's fronts (core_shell, "
        "axial_segment) within 1.5 front widths of them, and a quarter of it within half a front "
        "width of a contact rim on a front; default none (the wire size). A 1 nm front needs "
        "cells of ~0.25 nm for mesh-independent currents (docs/validation.md)")
    contact_layer_thickness: Length = Field(
        0.5e-9, description="thickness of the metal layer meshed at a metal|wire interface "
        "with a finite thermal boundary conductance (2D/3D; it carries the temperature jump, "
        "docs/model.md 3.1b); at most contact_size and a tenth of the wire radius")


class ContactSpec(Section):
    """How the wire meets the electrodes (docs/model.md 2)."""

    cu: Literal["embedded", "side"] = Field(
        "embedded", description="embedded: the wire's foot (wire.cu_contact_length) inside a "
        "Cu disk; side (3D): the wire lies across the edge of a Cu block (a grid bar), its side "
        "sunk cu_side_depth into the block's top over wire.cu_contact_length")
    w: Literal["end", "side"] = Field(
        "end", description="end: the W apex on the wire's end face; side (3D): the W tip, "
        "axis across the wire, pressed w_tip.contact_depth into the wire's side w_side_offset "
        "before its end")
    cu_side_depth: Length = Field(2e-9, description="side Cu contact: depth of the wire in "
                                  "the Cu (sets the strip's width)")
    w_side_offset: Length = Field(40e-9, description="side W contact: distance of its centre "
                                  "from the wire's end")


class DonorSpec(Section):
    """A donor crystal touching a rod (``geometry.particle.donors``; front kinetics)."""

    at: Literal["top", "bottom", "side"] = Field(
        description="top/bottom: a disk on that end face, centred on the axis; side: a ring "
        "band of the lateral surface (axisymmetric)")
    radius: Length = Field(description="disk radius, or half-width of a side band")
    z: NonNegativeLength = Field(0.0, description="axial centre of a side band")
    entry_sites: Annotated[float, Field(gt=0)] | None = Field(
        None, description="serial entry channels of the contact; default every site of it")


class ParticleSpec(Section):
    """A sphere or rod without electrodes: a nanocrystal in a bath, or a wire on a heated grid
    with donor contacts (``exchange.kinetics: front``)."""

    shape: Literal["sphere", "rod"]
    diameter: Length
    length: Length | None = Field(None, description="rod length (rods only)")
    donors: list[DonorSpec] = Field(default_factory=list)
    mesh_size: Length
    contact_mesh_size: Length = Field(description="element size at the donor contacts, or "
                                      "at the surface in a bath")


class GeometrySpec(Section):
    """Device geometry; one description serves 1D, 2D axisymmetric and 3D meshes. Either the
    device (``wire``, ``cu_electrode``, ``w_tip``, ``mesh``) or a ``particle``."""

    dimension: Literal["1d", "axisymmetric", "3d"]
    wire: WireSpec | None = None
    cu_electrode: CuElectrodeSpec | None = None
    w_tip: WTipSpec | None = None
    mesh: MeshSpec | None = None
    contact: ContactSpec = ContactSpec()
    particle: ParticleSpec | None = None
    mesh_file: str | None = Field(
        None, description="read this .msh (nm, named physical groups as written by "
        "`ecx-device mesh`) instead of meshing; relative to the case file")

    @model_validator(mode="after")
    def _consistent(self) -> GeometrySpec:
        device = [k for k in ("wire", "cu_electrode", "w_tip", "mesh") if getattr(self, k)]
        if self.particle is not None:
            if device or self.mesh_file:
                raise ValueError(f"a particle has no {', '.join(device) or 'mesh_file'}; "
                                 "expected either particle or the device sections")
            if (self.particle.shape == "rod") != (self.particle.length is not None):
                raise ValueError("particle.length: expected a length for a rod and none for "
                                 "a sphere")
            return self
        missing = [k for k in ("wire", "cu_electrode", "w_tip", "mesh") if k not in device]
        if missing:
            raise ValueError(f"missing {', '.join(missing)}: expected the device (wire, "
                             "cu_electrode, w_tip, mesh) or a particle")
        if self.contact.cu == "embedded" and \
                self.cu_electrode.thickness <= self.wire.cu_contact_length:
            raise ValueError(
                f"cu_electrode.thickness ({self.cu_electrode.thickness:g} m) must exceed "
                f"wire.cu_contact_length ({self.wire.cu_contact_length:g} m)")
        if self.cu_electrode.radius <= self.wire.diameter / 2:
            raise ValueError("cu_electrode.radius must exceed the wire radius")
        if self.w_tip.contact_depth >= self.w_tip.apex_radius:
            raise ValueError("w_tip.contact_depth must be smaller than w_tip.apex_radius")
        return self


class MaterialsSpec(Section):
    """Material names from the materials database, and per-case property overrides."""

    cu_electrode: str = "Cu"
    wire: str = "CdS_nanowire"
    wire_exchanged: str = Field("Cu2S", description="material of the fully exchanged wire (X = 1)")
    w_tip: str = "W"
    overrides: dict[Literal["cu_electrode", "wire", "wire_exchanged", "w_tip"],
                    dict[str, str | dict]] = Field(
        default_factory=dict,
        description="region -> property -> a constant with unit ('5 W/(m K)') or a model "
        "mapping as in the materials data files")


class CompositionSpec(Section):
    """Prescribed exchanged fraction X of the wire (0 = CdS, 1 = Cu2S); see composition.py."""

    shape: Literal["none", "uniform", "axial_segment", "core_shell", "file"] = "none"
    fraction: Annotated[float, Field(ge=0.0, le=1.0)] = 1.0
    start: Annotated[float | None, BeforeValidator(
        lambda v: None if v is None else to_si(v, "m"))] = Field(
        None, description="axial start of the exchanged zone from the Cu surface (default: the "
        "embedded end of the wire)")
    end: Annotated[float | None, BeforeValidator(
        lambda v: None if v is None else to_si(v, "m"))] = Field(
        None, description="axial end (default: the W end)")
    shell_thickness: Length | None = None
    closed_cu_end: bool = True
    closed_w_end: bool = False
    front_width: NonNegativeLength = 1e-9
    file: str | None = Field(None, description=".npz with z [nm], r [nm], X (shape: file)")

    @model_validator(mode="after")
    def _complete(self) -> CompositionSpec:
        if self.shape == "core_shell" and self.shell_thickness is None:
            raise ValueError("shape core_shell needs shell_thickness (e.g. '5 nm')")
        if self.shape == "file" and not self.file:
            raise ValueError("shape file needs file (an .npz with z, r, X)")
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise ValueError("end must lie beyond start")
        return self


class ElectricalSpec(Section):
    """Which electrical model the wire gets (the metals are always ohmic)."""

    wire_model: Literal["ohmic", "drift_diffusion"] = Field(
        "ohmic", description="ohmic: coupled electro-thermal (all regions); drift_diffusion: "
        "Poisson + electrons/holes in the wire with Schottky/ohmic contacts, metals "
        "equipotential, coupled to heat on the whole device (see self_heating)")
    self_heating: bool = Field(
        True, description="drift_diffusion: two-way electro-thermal coupling (carrier Joule, "
        "recombination and contact heat heat the device; the semiconductor data follow the "
        "local temperature); false: isothermal wire at the heat-sink temperature")
    peltier: bool = Field(
        True, description="drift_diffusion: each carrier carries its transport energy (E_c + "
        "2 kT for electrons, E_v - 2 kT for holes), so crossing a Schottky barrier heats one "
        "contact and cools the other (Peltier heat); false: Joule and recombination heat only")
    image_force: bool = Field(
        False, description="drift_diffusion: lower each Schottky barrier by the image force, "
        "sqrt(q E_s / (4 pi eps_s)) [eV] with the interface field E_s [V/m] of the solution")
    tunnelling: bool = Field(
        False, description="drift_diffusion: thermionic-field emission through the top of each "
        "Schottky barrier, as a barrier lowering V_bb (1 - kT/E_0) [eV] (Padovani-Stratton E_00 "
        "from the doping at the contact)")
    statistics: Literal["boltzmann", "fermi_dirac", "blakemore"] = Field(
        "boltzmann", description="drift_diffusion: carrier statistics; fermi_dirac: "
        "n = N_c F_1/2(eta) with Bednarczyk's all-range F_1/2 = 1/(exp(-eta) + (3 sqrt(pi)/4) "
        "nu^(-3/8)) (0.4 %, any density, for degenerate Cu2S); blakemore: F_1/2 ~ "
        "1/(exp(-eta) + 0.27), good for eta < ~1.3, cannot hold densities above 3.7 N_c,v")


class BiasSpec(Section):
    """Applied bias: polarity and a protocol of hold / ramp / steps segments."""

    polarity: Literal["cu_positive", "w_positive"] = "cu_positive"
    protocol: BiasProtocol

    @property
    def sign(self) -> float:
        """+1 when Cu is the positive terminal, -1 when W is."""
        return 1.0 if self.polarity == "cu_positive" else -1.0


class ThermalSpec(Section):
    """Thermal boundary conditions."""

    heat_sink_temperature: Temperature = 300.0
    ambient_temperature: Temperature | None = Field(
        None, description="radiation sink; defaults to the heat-sink temperature")
    emissivity: Annotated[float, Field(ge=0.0, le=1.0)] = 0.5
    cu_wire_boundary_conductance: BoundaryConductance = Field(
        "sourced", description="thermal boundary conductance G of the Cu|wire interface, q.n = "
        "G (T_metal - T_wire): 'sourced' or left out (materials/data/contacts.yaml for the "
        "case's metal and wire: 1e8 for Cu|CdS, Hopkins 2013, an estimate; range 1e7-1e9), a "
        "value ('1e8 W/(m^2 K)') or 'infinite' (perfect contact, continuous T)")
    w_wire_boundary_conductance: BoundaryConductance = Field(
        "sourced", description="the same for the W|wire interface")
    beam_heating: PowerDensity = Field(
        0.0, description="power the electron beam deposits per wire volume (W/m^3), uniform "
        "in the wire; 0 = off")

    @property
    def radiation_temperature(self) -> float:
        """Temperature the wire surface radiates towards (K)."""
        return self.ambient_temperature or self.heat_sink_temperature


class SolverSpec(Section):
    """Discretisation and Newton options."""

    element_degree: Literal[1, 2] = 2
    newton_tolerance: Annotated[float, Field(gt=0, lt=1e-3)] = Field(
        1e-11, description="Newton stops when |update| <= this * |solution|")
    newton_max_iterations: Annotated[int, Field(ge=1, le=200)] = 40
    max_bias_step: Annotated[float, BeforeValidator(lambda v: to_si(v, "V")), Field(gt=0)] = 0.25
    min_bias_step: Annotated[float, BeforeValidator(lambda v: to_si(v, "V")), Field(gt=0)] = 1e-3
    max_temperature: Temperature = Field(
        2500.0, description="a solve giving T above this anywhere is rejected and the bias "
        "step halved; failing that, the run stops with a runaway hint")
    electrothermal_tolerance: TemperatureChange = Field(
        1e-6, description="drift_diffusion with self_heating: the electro-thermal iteration "
        "stops when the wire temperature changes by less than this anywhere [K]")
    electrothermal_max_iterations: Annotated[int, Field(ge=1, le=500)] = 50
    electrothermal_coupling: Literal["fixed_point", "newton"] = Field(
        "fixed_point", description="drift_diffusion with self_heating: fixed_point: the carriers "
        "on the wire and the heat on the device solved in turn until the wire temperature "
        "moves by less than electrothermal_tolerance; newton: both in one Newton iteration "
        "with the full coupled Jacobian (limit electrothermal_max_iterations; docs/model.md "
        "5a.12)")
    carrier_flux: Literal["eafe", "galerkin"] = Field(
        "eafe", description="drift_diffusion: discretisation of the electron and hole fluxes; "
        "eafe: exponentially fitted (Scharfetter-Gummel) edge fluxes, edge-averaged finite "
        "elements (Xu & Zikatanov 1999), accurate and monotone at any potential step per cell, "
        "the carriers then P1 whatever element_degree (which still sets the heat equation's); "
        "galerkin: plain Lagrange elements in the quasi-Fermi potentials (needs < ~1 V_T per "
        "cell)")
    ion_coupling: Literal["monolithic", "split"] = Field(
        "monolithic", description="exchange on the drift_diffusion wire: monolithic: each ion "
        "step solves the ions with Poisson and the carriers in one Newton problem (the ions' "
        "charge acts on them within the step; P1 carriers only: with carrier_flux galerkin "
        "and element_degree 2 the ions are split); split: the ions move in the potential of "
        "the last electrical solve (docs/model.md 8.3)")
    petsc_options: dict[str, str | int | float | bool] = Field(
        default_factory=dict, description="extra PETSc options (override the defaults)")


def _relative_folder(value: str | None) -> str | None:
    """Output folders named in a case stay inside the working tree."""
    if value is None:
        return value
    p = PurePosixPath(value)
    if p.is_absolute() or ".." in p.parts or "\\" in value:
        raise ValueError("must be a relative path without '..' (use --out for other places)")
    return value


class OutputsSpec(Section):
    """What a run writes."""

    directory: Annotated[str | None, AfterValidator(_relative_folder)] = Field(
        None, description="default: results/<case name>")
    fields: bool = True
    plots: bool = True


class IVSpec(Section):
    """An I-V sweep at frozen composition (``ecx-device iv``), Cu bias against W."""

    start: Voltage = -1.0
    stop: Voltage = 1.0
    step: Annotated[float, BeforeValidator(lambda v: to_si(v, "V")), Field(gt=0)] = 0.05
    return_sweep: bool = Field(False, description="sweep back to start (hysteresis check)")
    field_biases: list[Voltage] = Field(default_factory=list,
                                        description="biases at which fields are written")

    @model_validator(mode="after")
    def _span(self) -> IVSpec:
        if self.stop == self.start:
            raise ValueError("stop must differ from start")
        if abs(self.stop - self.start) / self.step > 10_000:
            raise ValueError("more than 10000 bias points: use a larger step")
        return self

    def biases(self) -> list[float]:
        """Bias points (V) in sweep order."""
        n = int(round(abs(self.stop - self.start) / self.step))
        forward = np.linspace(self.start, self.stop, n + 1).tolist()
        return forward + forward[-2::-1] if self.return_sweep else forward


class BathSpec(Section):
    """The solution around a particle (``exchange.cu_source: bath``)."""

    concentration: Concentration = Field(description="guest cation concentration, e.g. "
                                         "'0.1 mol/L'")


class ExchangeSpec(Section):
    """Cation-exchange dynamics (Cu+ transport, vacancies, sublimation, exchange reaction) in
    time along the bias protocol; see ``ecx_device/physics/exchange.py`` and docs/model.md 6."""

    enabled: bool = Field(False, description="evolve the composition in time (else each bias "
                          "point is one steady electro-thermal solve)")
    anode: str | None = Field(None, description="anode metal in materials/data/anodes.yaml; "
                              "default: materials.cu_electrode")
    anode_equilibrium: Literal["reaction", "reaction_zhang2017", "zhang2017", "tabulated"] = Field(
        "reaction", description="E_eq of the anode kinetics (V): reaction = the exchange "
        "reaction's Delta G_r/(2F) per S atom from the tabulated formation energies (2Cu + CdS "
        "-> Cu2S + Cd: 0.364 V); reaction_zhang2017 = the same with the formation energies "
        "Zhang et al. 2017 quote; zhang2017 / tabulated = the aqueous standard potential E0 vs "
        "SHE as Zhang et al. quote it / as tabulated (for comparison only)")
    cu_source: Literal["anode", "surface", "none", "donors", "bath"] = Field(
        "anode", description="anode: Butler-Volmer dissolution at the anode interface; surface: a "
        "chemical supply on the free wire surface (thermal variant, Casu et al. 2023); donors: "
        "the donor contacts of geometry.particle, bath: its whole surface in exchange.bath "
        "(both with kinetics: front)")
    kinetics: Literal["bulk", "front"] = Field(
        "bulk", description="bulk: exchange at every site of the volume (physics/exchange.py); "
        "front: supply- and front-limited, conversion only in a reaction zone at the front "
        "(physics/front_kinetics.py, docs/model.md 8.8; needs geometry.particle)")
    reaction_zone_width: Length = Field(
        2e-9, description="front kinetics: width of the reaction zone, a numerical length (the "
        "front speed does not depend on it); at least 1.5 x geometry.particle.mesh_size")
    seed_size: Length | None = Field(
        None, description="front kinetics: radius of the product seed under each donor, or "
        "thickness of the seed shell in a bath; default 3 x reaction_zone_width")
    bath: BathSpec | None = None
    sublimation: bool = True
    cathode_reduction_velocity: Speed = Field(1e-3, description="k_red of Cu+ at the inert "
                                              "electrode (m/s)")
    initial_time_step: Duration = 1e-6
    max_time_step: Duration = 0.05
    min_time_step: Duration = 1e-12
    max_fraction_change: Annotated[float, Field(gt=0, le=1)] = Field(
        0.1, description="largest change of X anywhere in one accepted step")
    time_error_tolerance: Annotated[float, Field(gt=0, le=0.1)] = Field(
        1e-3, description="local error per step, in X and the ions' charge per S site, that the "
        "step-length controller aims at (smaller: more, shorter steps)")
    max_temperature_change: TemperatureChange = Field(
        25.0, description="a step whose electro-thermal re-solve moves T more than this is "
        "redone with half the step")
    snapshot_times: list[NonNegativeTime] = Field(
        default_factory=list, description="times at which fields, an X map and a composition "
        "table (composition.file format) are written")
    checkpoint_interval: NonNegativeTime = Field(
        0.0, description="simulated time between checkpoints; 0 = after every step")
    stations: list[Length] = Field(
        default_factory=list, description="axial positions (from the Cu surface) where the "
        "shell thickness is reported")
    iv_at_snapshots: bool = Field(
        False, description="after the run, an I-V sweep (the case's iv section) at the frozen "
        "composition of every snapshot, with the drift-diffusion wire model")

    @model_validator(mode="after")
    def _steps(self) -> ExchangeSpec:
        if not self.min_time_step <= self.initial_time_step <= self.max_time_step:
            raise ValueError("need min_time_step <= initial_time_step <= max_time_step")
        return self


class SmokeSpec(Section):
    """How ``--smoke`` shrinks the case (coarse mesh, short protocol) for CI."""

    mesh_scale: Annotated[float, Field(ge=1.0)] = 2.5
    element_degree: Literal[1, 2] = 1
    max_bias_points: Annotated[int, Field(ge=1)] = 2
    max_simulated_time: Duration = Field(
        1e-3, description="an exchange run stops here under --smoke")


class Case(Section):
    """A whole case file."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=100)]
    description: str = ""
    geometry: GeometrySpec
    materials: MaterialsSpec = MaterialsSpec()
    composition: CompositionSpec = CompositionSpec()
    electrical: ElectricalSpec = ElectricalSpec()
    bias: BiasSpec
    thermal: ThermalSpec = ThermalSpec()
    solver: SolverSpec = SolverSpec()
    outputs: OutputsSpec = OutputsSpec()
    iv: IVSpec = IVSpec()
    exchange: ExchangeSpec = ExchangeSpec()
    smoke: SmokeSpec = SmokeSpec()
    # the file it was read from (ecx_device.case.loader.CaseSource), for replace()
    _source: Any = PrivateAttr(default=None)

    def replace(self, settings: Mapping[str, object]) -> Case:
        """A new case with ``settings`` applied, validated again; this one is unchanged.

        The keys are those of ``ecx-device sweep --set``: a dotted path in the case file
        (``"geometry.wire.diameter"``, list items by index: ``"bias.protocol.0.voltage"``) or
        ``"bias"`` (the protocol becomes one hold at that voltage, as long as the whole
        protocol). Values are written as in the file, with units: ``"30 nm"``, ``"0.5 V"``.

        Example:
            >>> case = load_case("cases/zhang2017_1V.yaml")  # doctest: +SKIP
            >>> case.replace({"bias": "0.5 V", "geometry.wire.diameter": "30 nm"})  # doctest: +SKIP

        Raises:
            CaseError: an unknown key (with the closest keys of the file), a bad value, or a
                case not read with ``load_case``; one line, as the CLI prints it.
        """
        if self._source is None:
            raise CaseError("case.replace: this case was not read from a file; load it with "
                            "ecx_device.load_case(path)")
        return self._source.replace(self, settings)
