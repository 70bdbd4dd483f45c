"""Benchmark: parallel speed-up and peak memory of a large 3D electro-thermal solve.

Usage: .venv/bin/python benchmarks/bench_mpi_3d.py [--sizes 2.7,1.35,27] [--ranks 1,2]

Builds the default device in 3D with the given wire/contact/metal mesh sizes (nm; the defaults
give about 1e6 tetrahedra), solves one 1 V bias point with P1 elements on each rank count via
mpiexec, and prints the cell and DOF counts, the wall time of the run, the speed-up against the
first rank count and the peak resident memory of the largest rank (from getrusage of the child
processes). Fields and plots are off so only meshing, assembly and the solves are timed.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).parents[1]

_LAUNCH = """
import resource, subprocess, sys
mpiexec, n, case, out = sys.argv[1:]
proc = subprocess.run([mpiexec, "-n", n, sys.executable, "-m", "ecx_device", "run", case,
                       "--out", out], capture_output=True, text=True)
sys.stdout.write(proc.stdout)
sys.stderr.write(proc.stderr)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(proc.returncode)
"""


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="2.7,1.35,27", help="wire,contact,metal mesh sizes in nm")
    p.add_argument("--ranks", default="1,2")
    args = p.parse_args()
    wire, contact, metal = (float(s) for s in args.sizes.split(","))
    data = yaml.safe_load((ROOT / "cases" / "zhang2017_1V.yaml").read_text())
    data["geometry"]["dimension"] = "3d"
    data["geometry"]["mesh"] = {"wire_size": f"{wire} nm", "contact_size": f"{contact} nm",
                                "metal_size": f"{metal} nm"}
    data["bias"]["protocol"] = [{"type": "hold", "voltage": "1 V", "duration": "1 s"}]
    data["solver"] = {"element_degree": 1, "max_bias_step": "1 V"}
    data["outputs"] = {"fields": False, "plots": False}
    mpiexec = str(Path(sys.executable).parent / "mpiexec")
    base = None
    with tempfile.TemporaryDirectory() as tmp:
        case = Path(tmp) / "case.yaml"
        case.write_text(yaml.safe_dump(data))
        for n in (int(r) for r in args.ranks.split(",")):
            out = Path(tmp) / f"np{n}"
            t0 = time.perf_counter()
            # A fresh interpreter per rank count, so getrusage(CHILDREN) sees only this run.
            proc = subprocess.run([sys.executable, "-c", _LAUNCH, mpiexec, str(n), str(case),
                                   str(out)], capture_output=True, text=True)
            wall = time.perf_counter() - t0
            peak = int(proc.stdout.strip().splitlines()[-1]) if proc.returncode == 0 else 0
            if proc.returncode:
                print(f"{n} ranks: failed ({proc.stderr.strip()[-300:]})")
                continue
            summary = json.loads((out / "results.json").read_text())
            cells = next(line for line in proc.stdout.splitlines() if line.startswith("mesh:"))
            base = base or wall
            print(f"{n} rank(s): {cells.split(',')[1].strip()}, "
                  f"{summary['degrees_of_freedom']} DOFs, wall {wall:.1f} s "
                  f"(solver loop {summary['wall_time [s]']:.1f} s), speed-up {base / wall:.2f}, "
                  f"peak RSS of the largest rank {peak / 1024:.0f} MiB, "
                  f"I = {summary['final']['current [A]']:.6g} A, "
                  f"T_max = {summary['final']['wire_T_max [K]']:.3f} K")


if __name__ == "__main__":
    main()
