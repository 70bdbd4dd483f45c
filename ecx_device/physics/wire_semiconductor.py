"""The drift-diffusion wire model: material data -> semiconductor modules for the wire.

Maps a wire material's semiconductor properties (materials database: numbers at the heat-sink
temperature, plus the temperature laws of the data when the wire is self-heated) onto
:class:`SemiconductorParameters`, and builds
Poisson, drift-diffusion and one contact per metal|wire interface: Schottky with the barrier of the
metal/semiconductor pair from ``materials/data/barriers.yaml``, ohmic where that barrier is 0.
The metals are taken as equipotential at their terminal's potential (their resistance is ~1e-8 of
the wire's), so the unknowns live on the wire alone (``Domain.restrict``).

With a composition X (prescribed or evolving) the wire is a heterostructure of the wire material
(X = 0) and the exchanged material (X = 1) (:class:`Heterostructure`). Each contact takes the
phase that covers most of it when the model is built: the area-weighted mean of X over the
interface decides (> 1/2: the exchanged phase), and the barrier of the metal on that phase decides
ohmic (a strong contact) or Schottky; its Schottky data (N_c, n_B, velocities) are local. The
contact keeps its type for the whole run (a run whose front reaches a contact does not rebuild it;
the stage I-V sweeps at the run's snapshots do). A barrier that followed X continuously,
(1 - X) Phi_B0 + X Phi_B1 with flat-band barriers for the ohmic pairs, was tried: it made the stage
(d) sweep ten times slower (456-814 Newton iterations per bias against 51-102, the thermionic rows
of the degenerate Cu2S stiffening Newton) and was dropped.
"""

from __future__ import annotations

import dataclasses

from ecx_device.errors import CaseError
from ecx_device.fem import dolfinx
from ecx_device.materials import Material
from ecx_device.materials.database import schottky_barrier
from ecx_device.materials.properties import UflOps
from ecx_device.physics.base import Context, integrate
from ecx_device.physics.carriers import DriftDiffusion, TransportEnergy
from ecx_device.physics.carriers_fitted import FittedDriftDiffusion
from ecx_device.physics.contacts import OhmicContact, SchottkyContact
from ecx_device.physics.poisson import Poisson
from ecx_device.physics.semiconductor_scaling import (
    BLAKEMORE,
    ENERGY_PROPERTIES,
    MIXED_AS,
    Heterostructure,
    SemiconductorParameters,
)
from ecx_device.units import ELEMENTARY_CHARGE

#: Output names (with units) of the semiconductor unknowns.
UNKNOWN_NAMES = {"psi": "electrostatic_potential [V]",
                 "phi_n": "electron_quasi_fermi_potential [V]",
                 "phi_p": "hole_quasi_fermi_potential [V]"}


def temperature_laws(material: Material) -> dict:
    """SemiconductorParameters name -> law of the local temperature (K, UFL), for every
    semiconductor property of ``material`` that depends on temperature (not a constant model);
    energies converted to eV as SemiconductorParameters holds them."""
    laws = {}
    for attr, prop in MIXED_AS.items():
        model = material.properties.get(prop)
        if model is None or model.kind == "constant":
            continue
        scale = 1.0 / ELEMENTARY_CHARGE if prop in ENERGY_PROPERTIES else 1.0
        laws[attr] = lambda T, model=model, scale=scale: scale * model(T, UflOps)
    return laws


def semiconductor_parameters(material: Material, temperature: float,
                             lattice_temperature=None) -> SemiconductorParameters:
    """Semiconductor parameters of ``material`` at ``temperature`` (K), SI (band gap in eV).

    With ``lattice_temperature`` (K, UFL) the numbers are the values at the reference
    ``temperature`` and the temperature-dependent properties follow the field
    (:func:`temperature_laws`).
    """

    def value(prop: str, default: float | None = None) -> float:
        if prop not in material.properties and default is not None:
            return default
        return float(material(prop, temperature))

    lifetime = value("carrier_lifetime")
    return SemiconductorParameters(
        eps_r=value("relative_permittivity"), mu_n=value("electron_mobility"),
        mu_p=value("hole_mobility"), tau_n=lifetime, tau_p=lifetime,
        donors=value("donor_density", 0.0), acceptors=value("acceptor_density", 0.0),
        temperature=temperature, N_c=value("conduction_band_dos"),
        N_v=value("valence_band_dos"), E_g=value("band_gap") / ELEMENTARY_CHARGE,
        richardson_n=value("richardson_constant_electrons"),
        richardson_p=value("richardson_constant_holes"),
        electron_affinity=(value("electron_affinity") / ELEMENTARY_CHARGE
                           if "electron_affinity" in material.properties else None),
        lattice_temperature=lattice_temperature,
        temperature_laws=temperature_laws(material) if lattice_temperature is not None else None)


def check_statistics(par: SemiconductorParameters, material: Material) -> None:
    """Refuse Blakemore statistics where the doping exceeds what the Blakemore form can hold,
    1/0.27 = 3.7 times the density of states (no neutral state would exist). ``fermi_dirac``
    (Bednarczyk's all-range F_1/2) and ``boltzmann`` have no such limit.

    Raises:
        CaseError: naming ``electrical.statistics``, the material, the density and the limit.
    """
    if par.statistics != "blakemore":
        return
    for dens, dos, name, band in ((par.donors, par.N_c, "donor_density", "N_c"),
                                  (par.acceptors, par.N_v, "acceptor_density", "N_v")):
        if isinstance(dens, int | float) and dos is not None and dens >= dos / BLAKEMORE:
            raise CaseError(
                f"electrical.statistics = blakemore: {material.name} {name} {dens / 1e6:.3g} "
                f"cm^-3 exceeds the Blakemore limit {band}/{BLAKEMORE} = "
                f"{dos / BLAKEMORE / 1e6:.3g} cm^-3; use fermi_dirac or a lower density")


def contact_fraction(ctx: Context, facet_group: str) -> float:
    """Area-weighted mean of the composition X over a facet group (-); 0 without composition."""
    if ctx.composition is None:
        return 0.0
    d = ctx.domain
    area = integrate(d.surface(dolfinx.fem.Constant(d.mesh, 1.0), facet_group), d.mesh.comm)
    return integrate(d.surface(ctx.composition, facet_group), d.mesh.comm) / area


def drift_diffusion_modules(wire: Material, metals: dict[str, str], temperature: float,
                            exchanged: Material | None = None, ctx: Context | None = None,
                            image_force: bool = False, tunnelling: bool = False,
                            statistics: str = "boltzmann", lattice_temperature=None,
                            fixed_charge=None, peltier: bool = True,
                            carrier_flux: str = "galerkin") -> list:
    """Modules of the drift-diffusion wire.

    Args:
        wire: The wire's material (X = 0).
        metals: Interface facet group -> metal name, e.g. ``{"cu_wire": "Cu", "w_wire": "W"}``;
            the first is the biased terminal (``bias``), the second is grounded.
        temperature: Lattice temperature (K).
        exchanged: Material at X = 1; used when ``ctx.composition`` is set.
        ctx: The context holding the composition X (P1 Function on the wire), if any.
        image_force: Image-force lowering at the Schottky contacts.
        tunnelling: Thermionic-field emission at the Schottky contacts.
        statistics: ``boltzmann``, ``fermi_dirac`` (all-range F_1/2) or ``blakemore``.
        lattice_temperature: Temperature field of the wire (K, UFL) that the semiconductor data
            follow (self-heating); None: isothermal at ``temperature``.
        fixed_charge: Fixed (ionic) charge density in Poisson's equation (elementary charges
            per m^3, UFL), or None.
        peltier: The carriers carry their transport energy (Peltier heat at contacts and
            junctions, :class:`~ecx_device.physics.carriers.TransportEnergy`); False: the heat
            is Joule plus recombination heat alone.
        carrier_flux: ``galerkin`` (:class:`DriftDiffusion`) or ``eafe`` (exponentially fitted
            edge fluxes, :class:`FittedDriftDiffusion`, with the box method's lumped carrier
            charge in Poisson; P1 only).
    """
    par = dataclasses.replace(semiconductor_parameters(wire, temperature, lattice_temperature),
                              statistics=statistics)
    check_statistics(par, wire)
    if ctx is not None and ctx.composition is not None and exchanged is not None:
        other = semiconductor_parameters(exchanged, temperature, lattice_temperature)
        check_statistics(dataclasses.replace(other, statistics=statistics), exchanged)
        for key, mat, p in (("wire", wire, par), ("wire_exchanged", exchanged, other)):
            if p.electron_affinity is None:  # the band alignment of the two phases needs it
                raise CaseError(f"materials.{key} = {mat.name!r}: no electron_affinity (eV); a "
                                "composition with the drift_diffusion wire needs it for both "
                                "phases")
        par = dataclasses.replace(par, heterostructure=Heterostructure(other, ctx.composition))
    (anode, anode_metal), (cathode, cathode_metal) = metals.items()
    fitted = carrier_flux == "eafe"
    carriers = (FittedDriftDiffusion if fitted else DriftDiffusion)(
        par, terminals=(anode, cathode))
    energy = TransportEnergy(carriers.stats) if peltier else None
    carriers.energy = energy
    modules = [Poisson(par, fixed_charge=fixed_charge, lumped=fitted), carriers]
    for facet, metal, terminal in ((anode, anode_metal, "bias"),
                                   (cathode, cathode_metal, "ground")):
        covered = par.heterostructure is not None and contact_fraction(ctx, facet) > 0.5
        barrier = schottky_barrier(metal, (exchanged if covered else wire).name)
        if barrier == 0.0:
            modules.append(OhmicContact(par, facet, terminal=terminal))
            if energy is not None:
                energy.strong_contacts[facet] = terminal
        else:
            modules.append(SchottkyContact(par, facet, barrier, terminal=terminal,
                                           image_force=image_force, tunnelling=tunnelling,
                                           energy=energy))
    return modules


__all__ = ["UNKNOWN_NAMES", "check_statistics", "contact_fraction", "drift_diffusion_modules",
           "semiconductor_parameters", "temperature_laws"]
