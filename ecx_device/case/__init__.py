"""Case files: typed schema, bias protocols and the loader that turns YAML into a validated Case."""

from ecx_device.case.loader import load_case
from ecx_device.case.schema import Case

__all__ = ["Case", "load_case"]
