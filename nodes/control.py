"""A ControlNet whose strength follows the original's schedule over the steps (SyncTweedies samplers only)."""
from __future__ import annotations

import nodes as host_nodes
from comfy_api.v0_0_2 import io

from ..synctweedies.control import StrengthRamp
from .sockets import GUIDANCE
from .view_controls import RAMP, controls_in


class ControlNetRampNode(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="SyncTweediesControlNetRamp",
            display_name="SyncTweedies ControlNet Ramp",
            category=GUIDANCE,
            description="Applies a ControlNet (as Apply ControlNet does) whose strength changes over the steps as "
                        "the original's code makes it: 'scale' at the first step, then from 'end_scale' falling "
                        "linearly back to 'scale' by 'guidance_end' of the schedule. The SyncTweedies Sampler and "
                        "Guider follow the ramp; other samplers use 'scale' throughout.",
            inputs=[io.Conditioning.Input("positive"), io.Conditioning.Input("negative"),
                    io.ControlNet.Input("control_net"),
                    io.Image.Input("image", tooltip="The hints: one image, or one per view."),
                    io.Float.Input("scale", default=0.7, min=0.0, max=10.0, step=0.01,
                                   tooltip="Strength at the first step and at guidance_end (--conditioning_scale)."),
                    io.Float.Input("end_scale", default=0.9, min=0.0, max=10.0, step=0.01,
                                   tooltip="Strength the ramp starts from after the first step "
                                           "(--conditioning_scale_end)."),
                    io.Float.Input("guidance_start", default=0.0, min=0.0, max=1.0, step=0.001),
                    io.Float.Input("guidance_end", default=0.99, min=0.0, max=1.0, step=0.001,
                                   tooltip="Fraction of the schedule after which the ControlNet is off."),
                    io.Vae.Input("vae", optional=True)],
            outputs=[io.Conditioning.Output(display_name="positive"), io.Conditioning.Output(display_name="negative")],
        )

    @classmethod
    def execute(cls, positive, negative, control_net, image, scale, end_scale, guidance_start, guidance_end,
                vae=None) -> io.NodeOutput:
        before = {id(control) for control in controls_in([entry[1] for entry in positive + negative])}
        positive, negative = host_nodes.ControlNetApplyAdvanced().apply_controlnet(
            positive, negative, control_net, image, scale, guidance_start, guidance_end, vae=vae)
        ramp = StrengthRamp(scale, end_scale, guidance_start, guidance_end)
        for control in controls_in([entry[1] for entry in positive + negative]):
            if id(control) not in before:
                setattr(control, RAMP, ramp)
        return io.NodeOutput(positive, negative)
