"""Visual anagrams: the views node (one prompt per view) and the animation node."""
from __future__ import annotations

from comfy_api.v0_0_2 import io

from ..synctweedies import AnagramSpace
from ..synctweedies.anagram import ANAGRAM_VIEWS, INVERSE_FITS, ViewOptions, anagram_animation
from .animation import ANIMATION_FORMATS, save_animation
from .canvas import scaled_space, to_latent
from .sockets import OUTPUT, SCALE_TOOLTIP, SPACES, SPACE_TOOLTIP, SyncSpace, latent_scale
from .validation import option_problem
from .view_conditioning import merge_view_conditionings

VIEW_NAMES = list(ANAGRAM_VIEWS)
MAX_VIEWS = 4


class AnagramViewsNode(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        views = [io.Combo.Input(f"view_{n}", options=VIEW_NAMES if n <= 2 else ["none", *VIEW_NAMES],
                                default=["identity", "rotate_cw", "none", "none"][n - 1],
                                tooltip="How this view transforms the image: flips, turns, jigsaw, negate, ...")
                 for n in range(1, MAX_VIEWS + 1)]
        prompts = [io.Conditioning.Input(f"positive_{n}", optional=n > 2,
                                         tooltip=f"What view {n} should show.") for n in range(1, MAX_VIEWS + 1)]
        return io.Schema(
            node_id="SyncTweediesAnagramViews",
            display_name="SyncTweedies Anagram Views",
            category=SPACES,
            description="One square image that reads as a different prompt under each view (a visual anagram).",
            inputs=[
                *views, *prompts,
                io.Int.Input("size", default=512, min=64, max=2048, step=8,
                             tooltip="Side of the square image in pixels: the model's native resolution."),
                io.Float.Input("rotate_angle", default=45.0, min=-360.0, max=360.0, step=1.0,
                               tooltip="Degrees clockwise for 'rotate' and 'inner_rotate'."),
                io.Float.Input("skew_factor", default=1.5, min=-8.0, max=8.0, step=0.1, tooltip="For 'skew'."),
                io.Int.Input("num_patches", default=8, min=1, max=512, tooltip="Patches per side for 'patch_permute'."),
                io.Int.Input("permutation_seed", default=11, min=0, max=0xFFFFFFFF,
                             tooltip="Seed of the shuffles of 'jigsaw', 'patch_permute' and 'pixel_permute'."),
                io.Boolean.Input("optimize_inverse_mapping", default=False,
                                 tooltip="Fit the canonical image by a few optimisation steps each step "
                                         "(n-to-1 views such as 'rotate' by 45°)."),
                io.Int.Input("iterations", default=10, min=1, max=1000, tooltip="Optimisation steps per unprojection."),
                io.Float.Input("lr", default=0.1, min=0.0001, max=10.0, step=0.001, tooltip="Adam learning rate."),
                io.Combo.Input("inverse_fit", options=list(INVERSE_FITS), optional=True, default="mse",
                               tooltip="mse: fit the squared error from each step's average (measured closer to "
                                       "the prompts); original: the original's L1 fit from the previous step's."),
                io.Vae.Input("vae", optional=True, tooltip=SCALE_TOOLTIP),
            ],
            outputs=[SyncSpace.Output(display_name="space"),
                     io.Conditioning.Output(display_name="positive", tooltip="One prompt per view, for the sampler.")],
        )

    @classmethod
    def validate_inputs(cls, view_1, view_2, view_3, view_4, inverse_fit="mse") -> bool | str:
        return option_problem(cls, view_1=view_1, view_2=view_2, view_3=view_3, view_4=view_4,
                              inverse_fit=inverse_fit) or True

    @classmethod
    def execute(cls, view_1, view_2, view_3, view_4, positive_1, positive_2, size, rotate_angle, skew_factor,
                num_patches, permutation_seed, optimize_inverse_mapping, iterations, lr, positive_3=None,
                positive_4=None, inverse_fit="mse", vae=None) -> io.NodeOutput:
        names = [v for v in (view_1, view_2, view_3, view_4) if v != "none"]
        prompts = [p for p in (positive_1, positive_2, positive_3, positive_4) if p is not None]
        if len(prompts) != len(names):
            raise ValueError(f"{len(names)} views were picked but {len(prompts)} prompts are connected; connect one "
                             "positive_N per view, or set the extra views to 'none'.")
        options = ViewOptions(rotate_angle=rotate_angle, skew_factor=skew_factor, num_patches=num_patches,
                              seed=permutation_seed)
        try:
            scale = latent_scale(vae)
            space = AnagramSpace(names, to_latent(size, "size", scale), options=options,
                                 inverse_iterations=iterations if optimize_inverse_mapping else 0, inverse_lr=lr,
                                 inverse_fit=inverse_fit)
        except ValueError as error:
            raise ValueError(f"Anagram of {size} px (latent {size // scale}, cells are latent pixels): {error}") \
                from None
        return io.NodeOutput(scaled_space(space, scale), merge_view_conditionings(prompts))


class AnagramAnimationNode(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="SyncTweediesAnagramAnimation",
            display_name="SyncTweedies Anagram Animation",
            category=OUTPUT,
            description="Animates the anagram turning into each of its views, saves it to the output folder "
                        "and previews it.",
            inputs=[
                io.Image.Input("canvas", tooltip="The canonical image from 'SyncTweedies Decode'."),
                SyncSpace.Input("space", tooltip=SPACE_TOOLTIP),
                io.Int.Input("frames_per_turn", default=24, min=2, max=240, tooltip="Frames of each transition."),
                io.Int.Input("hold", default=12, min=0, max=240, tooltip="Frames to pause on each view."),
                io.Float.Input("fps", default=24.0, min=1.0, max=120.0, step=1.0),
                io.Combo.Input("format", options=ANIMATION_FORMATS, default="webp"),
                io.String.Input("filename_prefix", default="SyncTweedies/anagram"),
            ],
            outputs=[io.Image.Output(display_name="frames")],
            is_output_node=True,
            hidden=[io.Hidden.prompt, io.Hidden.extra_pnginfo],
        )

    @classmethod
    def validate_inputs(cls, format) -> bool | str:
        return option_problem(cls, format=format) or True

    @classmethod
    def execute(cls, canvas, space, frames_per_turn, hold, fps, format, filename_prefix) -> io.NodeOutput:
        if not isinstance(space, AnagramSpace):
            raise ValueError("The animation needs the space from 'SyncTweedies Anagram Views'.")
        if canvas.shape[1] != canvas.shape[2] or canvas.shape[1] % space.size:
            raise ValueError(f"The canvas is {canvas.shape[2]}x{canvas.shape[1]} px; the anagram needs the square "
                             f"canonical image from 'SyncTweedies Decode' (a multiple of {space.size} px).")
        frames = anagram_animation(canvas[0].detach().movedim(-1, 0).float().cpu(), space, frames_per_turn, hold)
        frames = frames.movedim(1, -1)
        return io.NodeOutput(frames, ui=save_animation(cls, frames, filename_prefix, fps, format))
