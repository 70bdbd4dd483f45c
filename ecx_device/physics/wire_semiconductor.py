"""The drift-diffusion wire model: material data -> semiconductor modules for the wire.

Maps a wire material's semiconductor properties (materials database, evaluated at the heat-sink
temperature: this model is isothermal for now) onto :class:`SemiconductorParameters`, and builds
Poisson, drift-diffusion and one contact per metal|wire interface: Schottky with the barrier of the
metal/semiconductor pair from ``materials/data/barriers.yaml``, ohmic where that barrier is 0.
The metals are taken as equipotential at their terminal's potential (their resistance is ~1e-8 of
the wire's), so the unknowns live on the wire alone (``Domain.restrict``).
"""

from __future__ import annotations

from ecx_device.materials import Material
from ecx_device.materials.database import schottky_barrier
from ecx_device.physics.carriers import DriftDiffusion
from ecx_device.physics.contacts import OhmicContact, SchottkyContact
from ecx_device.physics.poisson import Poisson
from ecx_device.physics.semiconductor_scaling import SemiconductorParameters
from ecx_device.units import ELEMENTARY_CHARGE

#: Output names (with units) of the semiconductor unknowns.
UNKNOWN_NAMES = {"psi": "electrostatic_potential [V]",
                 "phi_n": "electron_quasi_fermi_potential [V]",
                 "phi_p": "hole_quasi_fermi_potential [V]"}


def semiconductor_parameters(material: Material, temperature: float) -> SemiconductorParameters:
    """Semiconductor parameters of ``material`` at ``temperature`` (K), SI (band gap in eV)."""

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
        richardson_p=value("richardson_constant_holes"))


def drift_diffusion_modules(wire: Material, metals: dict[str, str], temperature: float) -> list:
    """Modules of the drift-diffusion wire.

    Args:
        wire: The wire's material.
        metals: Interface facet group -> metal name, e.g. ``{"cu_wire": "Cu", "w_wire": "W"}``;
            the first is the biased terminal (``bias``), the second is grounded.
        temperature: Lattice temperature (K).
    """
    par = semiconductor_parameters(wire, temperature)
    (anode, anode_metal), (cathode, cathode_metal) = metals.items()
    modules = [Poisson(par), DriftDiffusion(par, terminals=(anode, cathode))]
    for facet, metal, terminal in ((anode, anode_metal, "bias"),
                                   (cathode, cathode_metal, "ground")):
        barrier = schottky_barrier(metal, wire.name)
        modules.append(OhmicContact(par, facet, terminal=terminal) if barrier == 0.0 else
                       SchottkyContact(par, facet, barrier, terminal=terminal))
    return modules


__all__ = ["UNKNOWN_NAMES", "drift_diffusion_modules", "semiconductor_parameters"]
