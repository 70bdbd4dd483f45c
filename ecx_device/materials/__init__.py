"""Materials as data: property records with citations, evaluated at the local temperature."""

from ecx_device.materials.database import (
    AnodeMetal,
    Material,
    anode_metal,
    available_anodes,
    available_materials,
    host_gibbs_energy,
    load_material,
)
from ecx_device.materials.properties import CD_ATOMIC_MASS

__all__ = ["CD_ATOMIC_MASS", "AnodeMetal", "Material", "anode_metal", "available_anodes",
           "available_materials", "host_gibbs_energy", "load_material"]
