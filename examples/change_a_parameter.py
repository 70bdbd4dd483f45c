# %% [markdown]
# # Change a parameter, run, read the results
#
# The default case (Zhang et al. 2017: Cu anode - CdS nanowire - W tip, +1.0 V) held at 0.5 V
# instead, on a thinner wire, run through the Python API; then the table, the final scalars and
# the fields at one time. A plain script with notebook cells (`# %%`: VS Code, Jupyter via
# jupytext, Spyder). From the repository root:
#
#     .venv/bin/python examples/change_a_parameter.py            # the full run (minutes)
#     .venv/bin/python examples/change_a_parameter.py --smoke    # coarse and 1 ms long (seconds)
#
# (`ECX_EXAMPLE_SMOKE=1` does the same as `--smoke`; CI runs it so, tests/test_examples.py.)

# %%
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

import ecx_device as ecx

SMOKE = "--smoke" in sys.argv or os.environ.get("ECX_EXAMPLE_SMOKE") == "1"
ROOT = Path(__file__).resolve().parents[1]
OUT = Path(os.environ.get("ECX_EXAMPLE_OUT") or tempfile.mkdtemp(prefix="ecx_example_")) / "run"

# %% [markdown]
# ## The case, changed with the keys of `ecx-device sweep --set`
# `bias` makes the protocol one hold at that voltage; any dotted key of the case file works,
# values with their units. A wrong key stops here with a did-you-mean hint (`ecx.CaseError`).

# %%
case = ecx.load_case(ROOT / "cases" / "zhang2017_1V.yaml")
case = case.replace({"bias": "0.5 V", "geometry.wire.diameter": "35 nm"})
print(case.name, case.geometry.wire.diameter, "m;", case.bias.protocol.root)

# %% [markdown]
# ## Run it
# `smoke=True` uses the case's `smoke` section: a coarser mesh and the first millisecond only.

# %%
result = ecx.run(case, out=OUT, smoke=SMOKE, overwrite=True)

# %% [markdown]
# ## The table: one row per time step, columns named with their units (docs/outputs.md)

# %%
table = result.timeseries
print(table[["time [s]", "bias [V]", "current [A]", "wire_T_max [K]",
             "exchanged_volume [nm^3]"]].tail())

# %% [markdown]
# ## The final scalars, and the fields at the last frame

# %%
final = result.final
mesh = result.fields()  # a PyVista mesh: mesh.plot(scalars="cu_ion_fraction [-]")
X = np.asarray(mesh.point_data["exchanged_fraction [-]"])
cu = np.asarray(mesh.point_data["cu_ion_fraction [-]"])  # mobile Cu+ per S site
print(f"t = {final['time [s]']:.4g} s: I = {final['current [A]']:.3e} A, "
      f"Cu in = {final['cu_in_total [-]']:.3e} atoms, max Cu+ fraction = {cu.max():.3e}")

# %% [markdown]
# ## Checks on the numbers (these make the example a test)

# %%
end = case.smoke.max_simulated_time if SMOKE else case.bias.protocol.end_time
assert result.complete
assert final["time [s]"] == table["time [s]"].iloc[-1]
assert abs(final["time [s]"] - end) <= 1e-9 * end
assert (table["bias [V]"] == 0.5).all()  # one hold at 0.5 V from t = 0
assert final["current [A]"] > 0  # Cu positive: current flows into the device at Cu
assert table["wire_T_max [K]"].min() >= 300.0 - 1e-9  # never below the heat sinks
# Cu is conserved: what entered the wire is in it (mobile or in the lattice), to round-off
assert table["cu_balance_error [-]"].max() < 1e-9
gained = final["cu_mobile [-]"] + final["cu_lattice [-]"]
assert abs(gained - (final["cu_in_total [-]"] - final["cu_out_total [-]"])) \
    <= 1e-9 * final["cu_in_total [-]"]
# the exchanged volume only grows; with no node at X >= 1/2 there is no front yet
assert np.all(np.diff(table["exchanged_volume [nm^3]"]) >= 0)
assert (X.max() >= 0.5) == np.isfinite(final["front_position [nm]"])
assert final["cu_in_total [-]"] > 0 and cu.max() > 0  # Cu+ entered the wire
print("example checks passed; outputs in", result.directory)
