"""The device: region names, dimensions, the gmsh model, and the case-to-device mapping."""
