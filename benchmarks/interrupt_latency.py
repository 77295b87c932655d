"""How long after an interrupt each long stage of the pack stops: the host's interrupt flag is set 1, 5 and 15 s into
the stage (what ComfyUI's /interrupt does) and the time until the stage raises is measured. The stages run at
the widgets' limits, where each would otherwise run for minutes on a CPU:

    python benchmarks/interrupt_latency.py --comfyui /path/to/ComfyUI [--json benchmarks/results/cpu_interrupt.json]
"""
from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

import torch

from pack_paths import add  # (and the pack and its test helpers on sys.path)
from timing import machine, report  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comfyui", type=Path, required=True)
    parser.add_argument("--json", type=Path)
    options = parser.parse_args()
    add(str(options.comfyui))
    from comfy.cli_args import args

    args.cpu = not torch.cuda.is_available()
    import comfy.model_management as mm
    import folder_paths
    from host_support import load_pack

    load_pack()
    import comfyui_synctweedies.nodes as nodes
    from gaussian_scenes import sphere_scene
    from meshes import cube
    from synctweedies.mesh import write_obj

    folder = Path(tempfile.mkdtemp())
    folder_paths.set_input_directory(str(folder))
    folder_paths.set_output_directory(str(folder))
    write_obj(cube(), folder / "cube.obj")
    sphere_scene(folder / "sphere.ply", count=2000)
    mesh = dict(mesh="cube.obj", mesh_scale=1.0, azimuths=", ".join(str(3.6 * k) for k in range(100)),
                elevation=0.0, top_views=True, distance=4.0, fov=40.0, view_size=2048, latent_texture=4096,
                rgb_texture=4096, background="none", projection="perspective")
    small = nodes.mesh.MeshNode.execute(**{**mesh, "azimuths": "0", "view_size": 64, "latent_texture": 16}).args[0]
    gaussians = dict(ply="sphere.ply", cameras="orbit (no camera file)", total_image_to_use=1000, up_vec="z",
                     view_size=2048, antialiased=True, background_color="white", canonical_domain="rgb", iterations=5,
                     lr=0.025, color_assign_method="instance", zt_init=True, final_iterations=5)
    small_gs = nodes.gaussians.GaussiansNode.execute(**{**gaussians, "total_image_to_use": 2, "view_size": 64}).args[0]
    panorama = dict(theta_start=0.0, theta_end=360.0, theta_interval=15.0, phi_start=-90.0, phi_end=91.0,
                    phi_interval=20.0, fov=72.0, view_size=2048, latent_height=1024, rgb_height=4096, feather=True)
    stages = {
        "mesh space, 102 cameras of 2048 px, 4096 texture": lambda: nodes.mesh.MeshNode.execute(**mesh),
        "mesh turntable, 720 frames of 2048 px": lambda: nodes.mesh.TurntableNode.execute(
            torch.rand(1, 64, 64, 3), small, 720, 2048, 20.0, 12.0, "webp", "t"),
        "Gaussians space, 1000 cameras of 2048 px": lambda: nodes.gaussians.GaussiansNode.execute(**gaussians),
        "Gaussians turntable, 720 frames of 2048 px": lambda: nodes.gaussians.GaussiansTurntableNode.execute(
            torch.rand(1, 1, 2000, 3), small_gs, 720, 2048, 20.0, 12.0, "webp", "t"),
        "panorama space, 240 views of 2048 px, 1024 latent": lambda: nodes.panorama.PanoramaNode.execute(**panorama),
    }
    results = {}
    for name, stage in stages.items():
        for delay in (1.0, 5.0, 15.0):
            interrupted_at = []

            def interrupt():
                interrupted_at.append(time.perf_counter())
                mm.interrupt_current_processing(True)

            timer = threading.Timer(delay, interrupt)
            timer.start()
            try:
                stage()
                outcome = "ran to the end"
            except mm.InterruptProcessingException:
                outcome = "interrupted"
            finally:
                timer.cancel()
                mm.interrupt_current_processing(False)
            seconds = round(time.perf_counter() - interrupted_at[0], 3) if interrupted_at else None
            results[f"{name}, interrupted after {delay:g} s"] = {"outcome": outcome, "seconds_after_interrupt": seconds}
            print(name, delay, outcome, seconds, flush=True)
    report({"benchmark": "interrupt_latency", **machine(), "stages": results,
            "worst_seconds": max(r["seconds_after_interrupt"] or 0 for r in results.values())}, options.json)


if __name__ == "__main__":
    main()
