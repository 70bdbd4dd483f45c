"""``ecx-device mesh``: write a case's mesh (.msh), a meshio export (.vtu) and a PNG preview."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ecx_device.case.schema import Case
from ecx_device.device.from_case import device_geometry
from ecx_device.device.gmsh_model import write_msh


def mesh_case(case: Case, out_dir: Path, smoke: bool = False) -> list[Path]:
    """Mesh the case's geometry; returns the written files (.msh, .vtu, .png)."""
    geom = device_geometry(case, case.smoke.mesh_scale if smoke else 1.0)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = out_dir / f"{case.name}_{case.geometry.dimension}"
    msh = write_msh(geom, stem.with_suffix(".msh"))
    vtu = export_meshio(msh, stem.with_suffix(".vtu"))
    png = preview(vtu, stem.with_suffix(".png"), case.geometry.dimension)
    return [msh, vtu, png]


def export_meshio(msh: Path, path: Path) -> Path:
    """Convert a .msh to any meshio format (by suffix), keeping the region tags as cell data."""
    import meshio

    m = meshio.read(msh)
    top = max(m.cells, key=lambda c: meshio._mesh.topological_dimension[c.type]).type
    keep = [i for i, c in enumerate(m.cells) if c.type == top]
    tags = [m.cell_data["gmsh:physical"][i] for i in keep]
    points = np.zeros((len(m.points), 3))
    points[:, : m.points.shape[1]] = m.points  # VTK wants 3D points
    out = meshio.Mesh(points, [m.cells[i] for i in keep], cell_data={"region": tags})
    meshio.write(path, out)
    return path


def preview(mesh_file: Path, path: Path, dimension: str) -> Path:
    """PNG of a mesh with ``region`` cell data (PyVista off-screen; 3D shows the y = 0 slice)."""
    from ecx_device.outputs.plots import offscreen_pyvista

    pv = offscreen_pyvista()
    grid = pv.read(mesh_file)
    if dimension == "3d":
        grid = grid.slice(normal="y", origin=(0, 0, 0))
    plotter = pv.Plotter(off_screen=True, window_size=(800, 1000))
    plotter.add_mesh(grid, scalars="region", show_edges=True, cmap="Set2",
                     scalar_bar_args={"title": "region tag"},
                     line_width=3 if dimension == "1d" else 0.5)
    if dimension == "1d":
        plotter.add_points(grid.points, color="black", point_size=4)
    if dimension == "3d":
        plotter.view_xz()
    else:
        plotter.view_xy()
    plotter.add_text(f"{path.stem} (nm)", font_size=10)
    plotter.screenshot(str(path))
    plotter.close()
    return path
