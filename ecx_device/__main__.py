"""``python -m ecx_device`` runs the command line."""

import sys

from ecx_device.cli import main

sys.exit(main())
