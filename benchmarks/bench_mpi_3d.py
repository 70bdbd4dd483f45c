"""Benchmark: wall time, parallel speed-up and peak memory of one large 3D electro-thermal bias
point, against the goals of issue 14.

Usage: .venv/bin/python benchmarks/bench_mpi_3d.py [--sizes 2.5,1.25,25] [--ranks 1,2] [--warm]

Builds the default device in 3D with the given wire/contact/metal mesh sizes (nm; the defaults
give about 1.0e6 tetrahedra, 3.4e5 P1 DOFs), solves one 1 V bias point (ohmic electro-thermal,
exchange off, P1, the automatic solver choice: GMRES + GAMG in 3D) on each rank count via
mpiexec, and prints the cell and DOF counts, the wall time of the whole command (start-up,
meshing, assembly, solves), the solver loop's time, the speed-up against the first rank count,
the peak resident memory of the largest rank (getrusage of the child processes) and its memory
per DOF, the CPU time of all ranks together (if it stays flat from 1 to 2 ranks, the work did
not grow with the ranks), and the load average before and after each run: a speed-up measured
while other jobs run says little.

Each "cold" run starts from an empty mesh cache, so it includes gmsh; ``--warm`` adds a run per
rank count that finds the mesh in the cache (what the later points of a sweep see). Fields and
plots are off.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).parents[1]

#: Issue 14 goals: wall time on 2 ranks (s, meshing included), peak RSS per rank (MiB), speed-up
GOAL_WALL, GOAL_RSS, GOAL_SPEEDUP = 60.0, 2048.0, 1.6

_LAUNCH = """
import resource, subprocess, sys
mpiexec, n, case, out = sys.argv[1:]
proc = subprocess.run([mpiexec, "-n", n, sys.executable, "-m", "ecx_device", "run", case,
                       "--out", out], capture_output=True, text=True)
sys.stdout.write(proc.stdout)
sys.stderr.write(proc.stderr)
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(usage.ru_utime + usage.ru_stime, usage.ru_maxrss)
sys.exit(proc.returncode)
"""


def _case(wire: float, contact: float, metal: float) -> dict:
    data = yaml.safe_load((ROOT / "cases" / "zhang2017_1V.yaml").read_text())
    data["geometry"]["dimension"] = "3d"
    data["geometry"]["mesh"] = {"wire_size": f"{wire} nm", "contact_size": f"{contact} nm",
                                "metal_size": f"{metal} nm"}
    data["bias"]["protocol"] = [{"type": "hold", "voltage": "1 V", "duration": "1 s"}]
    data["exchange"] = {"enabled": False}  # one electro-thermal bias point
    # the ohmic device, as measured for issue 14 (phi and T: GMRES + GAMG); the default case's
    # drift-diffusion wire would be another benchmark (its carriers are factorised by LU)
    data["electrical"] = {"wire_model": "ohmic"}
    data["solver"] = {"element_degree": 1, "max_bias_step": "1 V"}
    data["outputs"] = {"fields": False, "plots": False}
    return data


def _run(n: int, case: Path, out: Path, cache: Path) -> dict | None:
    """One mpiexec run on ``n`` ranks: its figures, or None if it failed."""
    mpiexec = str(Path(sys.executable).parent / "mpiexec")
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    # A fresh interpreter per run, so getrusage(CHILDREN) sees only this run's ranks.
    proc = subprocess.run([sys.executable, "-c", _LAUNCH, mpiexec, str(n), str(case), str(out)],
                          capture_output=True, text=True,
                          env={**os.environ, "ECX_MESH_CACHE": str(cache)})
    wall = time.perf_counter() - t0
    if proc.returncode:
        print(f"{n} ranks: failed ({proc.stderr.strip()[-300:]})")
        return None
    summary = json.loads((out / "results.json").read_text())
    mesh_line = next(line for line in proc.stdout.splitlines() if line.startswith("mesh:"))
    return {"wall": wall, "loop": summary["wall_time [s]"], "dofs": summary["degrees_of_freedom"],
            "cells": mesh_line.split(",")[1].strip(), "rss": int(proc.stdout.split()[-1]) / 1024,
            "cpu": float(proc.stdout.split()[-2]),
            "newton": summary["final"]["newton_iterations [-]"],
            "current": summary["final"]["current [A]"], "T_max": summary["final"]["wire_T_max [K]"],
            "load": (load, os.getloadavg()[0])}


def _report(label: str, n: int, r: dict, base: dict | None) -> None:
    speedup = base["wall"] / r["wall"] if base else 1.0
    per_dof = r["rss"] * 1024 / (r["dofs"] / n)  # KiB per DOF of the largest rank
    print(f"{label} {n} rank(s): {r['cells']}, {r['dofs']} DOFs, wall {r['wall']:.1f} s (solver "
          f"loop {r['loop']:.1f} s, {r['newton']} Newton its; CPU of all ranks {r['cpu']:.1f} s), "
          f"speed-up {speedup:.2f}, peak RSS "
          f"{r['rss']:.0f} MiB ({per_dof:.1f} KiB per DOF of a rank), I = {r['current']:.6g} A, "
          f"T_max = {r['T_max']:.3f} K; load {r['load'][0]:.2f} -> {r['load'][1]:.2f}")


def _goals(results: dict) -> None:
    """The issue-14 goals against the cold runs on 1 and 2 ranks."""
    one, two = results.get(1), results.get(2)
    if two is None:
        return
    print(f"goal: wall on 2 ranks, meshing included <= {GOAL_WALL:.0f} s: {two['wall']:.1f} s "
          f"({'met' if two['wall'] <= GOAL_WALL else 'NOT met'})")
    print(f"goal: peak RSS per rank <= {GOAL_RSS:.0f} MiB: {two['rss']:.0f} MiB "
          f"({'met' if two['rss'] <= GOAL_RSS else 'NOT met'})")
    if one is not None:
        s = one["wall"] / two["wall"]
        print(f"goal: speed-up 1 -> 2 ranks >= {GOAL_SPEEDUP}: {s:.2f} "
              f"({'met' if s >= GOAL_SPEEDUP else 'NOT met'}; meaningful only at a load < 0.5)")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="2.5,1.25,25", help="wire,contact,metal mesh sizes in nm")
    p.add_argument("--ranks", default="1,2")
    p.add_argument("--warm", action="store_true", help="also run with the mesh already cached")
    args = p.parse_args()
    wire, contact, metal = (float(s) for s in args.sizes.split(","))
    cold: dict[int, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        case = Path(tmp) / "case.yaml"
        case.write_text(yaml.safe_dump(_case(wire, contact, metal)))
        for n in (int(r) for r in args.ranks.split(",")):
            cache = Path(tmp) / f"cache_np{n}"  # empty: this run meshes
            r = _run(n, case, Path(tmp) / f"np{n}", cache)
            if r is None:
                continue
            cold[n] = r
            _report("cold", n, r, cold[min(cold)] if n != min(cold) else None)
            if args.warm:
                w = _run(n, case, Path(tmp) / f"np{n}_warm", cache)
                if w is not None:
                    _report("warm", n, w, None)
    _goals(cold)


if __name__ == "__main__":
    main()
