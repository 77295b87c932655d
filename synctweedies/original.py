"""The original research code's settings, written once: its prompt prefix and negative prompt, each application's
defaults (by the original's flag names), and the ranges this pack accepts for the numbers both the nodes and the
standalone command take. The command line, its applications, the nodes and ``workflows/build.py`` read them here.

Standard library only.
"""
from __future__ import annotations

import math

PROMPT_PREFIX = "Best quality, extremely detailed "
"""What the original puts before the prompt of every application but ambiguous images and texture editing."""
NEGATIVE_PROMPT = "oversmoothed, blurry, depth of field, out of focus, low quality, bloom, glowing effect."
"""The original's negative prompt for panoramas, meshes and Gaussians."""

WIDE_IMAGE = {"num_inference_steps": 50, "guidance_scale": 7.5, "mvd_end": 0.8, "ref_attention_end": 0.2}
"""The original's wide-image flags (its README's run sets --mvd_end 1.0: the bundled template does too)."""
AMBIGUOUS_IMAGE = {"num_inference_steps": 30, "guidance_scale": 10.0}
PANORAMA = {"num_inference_steps": 30, "guidance_scale": 25.0, "mvd_end": 0.8, "ref_attention_end": 0.2,
            "negative_prompt": NEGATIVE_PROMPT, "seed": 0}
MESH = {"num_inference_steps": 30, "guidance_scale": 15.5, "mvd_end": 0.8, "ref_attention_end": 0.2,
        "negative_prompt": NEGATIVE_PROMPT}
GAUSSIANS = {"num_inference_steps": 30, "guidance_scale": 35.0, "mvd_end": 0.8, "ref_attention_end": 0.2,
             "negative_prompt": NEGATIVE_PROMPT, "seed": 0}
SDEDIT_TIMESTEP = 0.2
"""The original's texture editing starts this far into its schedule (of ``MESH``'s steps), from every view's own
noise."""
CONTROLNET_RAMP = {"conditioning_scale": 0.7, "conditioning_scale_end": 0.9, "control_guidance_start": 0.0,
                   "control_guidance_end": 0.99}
"""The original's depth ControlNet strength: 0.7, then (meshes and Gaussians) 0.9 falling to 0.7."""

RANGES = {
    "num_inference_steps": (1, 10000), "guidance_scale": (0.0, 100.0), "seed": (0, 2**64 - 1),
    "mvd_end": (0.0, 1.0), "ref_attention_end": (0.0, 1.0), "views_per_batch": (1, 1024), "log_step": (0, 10000),
    "panorama_height": (64, 16384), "panorama_width": (64, 16384), "latent_instance_size": (8, 512),
    "window_stride": (1, 512), "instance_latent_size": (8, 256), "canonical_latent_h": (8, 1024),
    "canonical_rgb_h": (64, 4096), "theta_interval": (1.0, 360.0), "phi_interval": (1.0, 180.0), "FOV": (1.0, 179.0),
    "latent_view_size": (8, 256), "rgb_view_size": (64, 2048), "latent_tex_size": (8, 4096), "rgb_tex_size": (8, 4096),
    "mesh_scale": (0.01, 10.0), "camera_azims": (-3600.0, 3600.0), "shuffle_bg_change": (0.0, 1.0),
    "shuffle_bg_end": (0.0, 1.0), "sdedit_timestep": (0.0, 1.0), "rotate_angle": (-360.0, 360.0),
    "iterations": (0, 100000), "final_iterations": (0, 100000), "lr": (0.0, 10.0), "feature_lr": (0.0, 10.0),
    "xyz_lr": (0.0, 1.0), "scale_lr": (0.0, 1.0), "quat_lr": (0.0, 1.0), "opacity_lr": (0.0, 1.0),
    "total_image_to_use": (1, 1000), "turntable_frames": (0, 1000), "turntable_size": (16, 4096),
    "conditioning_scale": (0.0, 10.0), "conditioning_scale_end": (0.0, 10.0), "control_guidance_start": (0.0, 1.0),
    "control_guidance_end": (0.0, 1.0),
}
"""The numbers this pack takes, as ``(min, max)``: the nodes' input ranges, which the command checks too."""
MAX_CAMERAS = 100
"""The most cameras a mesh rig may have (the original uses 10): each is a view in every model call."""


def span(name: str) -> dict:
    """``{"min": ..., "max": ...}`` of the setting ``name``, for a node input."""
    low, high = RANGES[name]
    return {"min": low, "max": high}


def range_problem(name: str, value) -> str | None:
    """Why ``value`` is not a number this pack takes for the setting ``name`` (None when it is)."""
    low, high = RANGES[name]
    values = value if isinstance(value, (list, tuple)) else [value]
    for number in values:
        if not isinstance(number, (int, float)) or isinstance(number, bool) or not math.isfinite(number):
            return f"{name} is {number!r}: give a finite number between {low:g} and {high:g}"
        if not low <= number <= high:
            return f"{name} is {number:g}, outside {low:g} to {high:g}"
    return None
