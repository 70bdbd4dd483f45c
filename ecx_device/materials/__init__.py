"""Materials as data: property records with citations, evaluated at the local temperature."""

from ecx_device.materials.database import Material, available_materials, load_material

__all__ = ["Material", "available_materials", "load_material"]
