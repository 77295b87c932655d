"""Mesh texturing: a mesh seen by the orbit rig as a texture space, and export of the textured mesh as GLB."""
from __future__ import annotations

import math

import comfy.model_management
import numpy as np
import torch
from comfy_api.v0_0_2 import io
from PIL import Image

from ..synctweedies.mesh import MESH_SUFFIXES, MeshTexture, load_mesh, orbit_cameras, turntable, write_glb, write_obj
from ..synctweedies.depth import view_depth_hints
from ..synctweedies.mesh.background import BackgroundSchedule, colour_images
from ..synctweedies.original import MAX_CAMERAS, span
from .animation import save_animation, turntable_inputs
from .canvas import scaled_space, to_latent
from .frames import as_views, encode_views
from .files import input_files, input_path, output_file, saved_files_ui
from .sockets import GUIDANCE, OUTPUT, SPACES, SyncSpace, latent_scale
from .validation import file_problem, option_problem


def parse_angles(text: str, name: str) -> list[float]:
    """``"-180, -135, 0"`` → at most :data:`MAX_CAMERAS` finite angles in degrees; a ValueError naming the input
    otherwise."""
    try:
        angles = [float(part) for part in text.replace(",", " ").split()]
    except ValueError:
        raise ValueError(f"{name} must be numbers separated by commas, e.g. -180, -90, 0, 90; got {text!r}.") from None
    if not angles or len(angles) > MAX_CAMERAS or not all(map(math.isfinite, angles)):
        raise ValueError(f"{name} must list 1 to {MAX_CAMERAS} finite angles; got {len(angles)}.")
    return angles


def texture_inputs() -> list[io.Input]:
    """The inputs of the nodes that use a finished texture: the texture image and its mesh space."""
    return [io.Image.Input("texture", tooltip="The texture: the canvas of 'SyncTweedies Decode'."),
            SyncSpace.Input("space", tooltip="The space from 'SyncTweedies Mesh Texture'.")]


def require_mesh(space, what: str) -> None:
    """A ValueError naming the node to connect unless ``space`` is a mesh texture space."""
    if not isinstance(space, MeshTexture):
        raise ValueError(f"{what} needs the space from 'SyncTweedies Mesh Texture'.")


class MeshNode(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="SyncTweediesMesh",
            display_name="SyncTweedies Mesh Texture",
            category=SPACES,
            description="A mesh's UV texture painted through views around it (the original's camera rig).",
            inputs=[
                io.Combo.Input("mesh", options=input_files(suffixes=MESH_SUFFIXES, what="Mesh"),
                               tooltip="A mesh in the input folder: .obj (+ .mtl and texture), .glb/.gltf or .ply."),
                io.Boolean.Input("mesh_autouv", default=False,
                                 tooltip="Unwrap new UVs with xatlas (pip install xatlas); needed for meshes without "
                                         "UVs. The mesh's own texture is dropped."),
                io.Float.Input("mesh_scale", default=1.0, **span("mesh_scale"), step=0.01,
                               tooltip="Radius of the mesh's bounding sphere after centring (the original's "
                                       "mesh_scale)."),
                io.String.Input("azimuths", default="-180, -135, -90, -45, 0, 45, 90, 135",
                                tooltip="Camera azimuths in degrees (0 looks at the front)."),
                io.Float.Input("elevation", default=0.0, min=-89.0, max=89.0, step=1.0),
                io.Boolean.Input("top_views", default=True,
                                 tooltip="Add the original's two top cameras, 30° above the front and the back."),
                io.Float.Input("distance", default=2.0, min=0.1, max=100.0, step=0.1,
                               tooltip="Camera distance; the mesh fits a sphere of radius mesh_scale (the "
                                       "original: 2)."),
                io.Float.Input("fov", default=60.0, min=1.0, max=170.0, step=1.0,
                               tooltip="Field of view in degrees (perspective)."),
                io.Combo.Input("projection", options=["perspective", "orthographic"], default="perspective",
                               tooltip="Orthographic views show the mesh (normalised to mesh_scale) at a fixed "
                                       "half-width of 1.1 × mesh_scale, whatever the distance."),
                io.Int.Input("view_size", default=768, **span("rgb_view_size"), step=8,
                             tooltip="View side in pixels."),
                io.Int.Input("latent_texture", default=1536, **span("latent_tex_size"), step=8,
                             tooltip="Side of the latent texture."),
                io.Int.Input("rgb_texture", default=1024, **span("rgb_tex_size"), step=8,
                             tooltip="Side of the decoded texture image."),
                io.Combo.Input("background", options=BACKGROUNDS, optional=True, default="shuffle",
                               tooltip="What views show behind the mesh. shuffle (the original): random solid "
                                       "colours, then black or white, then fixed, so no colour bleeds into the "
                                       "texture. Colours need the VAE; none leaves a zero latent."),
                io.Float.Input("shuffle_bg_change", optional=True, default=0.4, min=0.0, max=1.0, step=0.01,
                               tooltip="Until this fraction of the steps, backgrounds are random colours."),
                io.Float.Input("shuffle_bg_end", optional=True, default=0.8, min=0.0, max=1.0, step=0.01,
                               tooltip="Until this fraction of the steps, backgrounds are random black or white; "
                                       "then each view keeps its last one."),
                io.Vae.Input("vae", optional=True, tooltip="Encodes the background colours into latents; its pixels "
                                                           "per latent pixel divide view_size (unconnected: 8)."),
            ],
            outputs=[SyncSpace.Output(display_name="space"),
                     io.Image.Output(display_name="texture",
                                     tooltip="The mesh's own texture (its MTL's map_Kd) at rgb_texture size, grey "
                                             "if it has none: the start for editing with 'SyncTweedies Encode'.")],
        )

    @classmethod
    def validate_inputs(cls, mesh, projection, background="shuffle") -> bool | str:
        return file_problem(mesh, "Mesh", suffixes=MESH_SUFFIXES) \
            or option_problem(cls, projection=projection, background=background) or True

    @classmethod
    def execute(cls, mesh, mesh_scale, azimuths, elevation, top_views, distance, fov, view_size, latent_texture,
                rgb_texture, mesh_autouv=False, background="shuffle", shuffle_bg_change=0.4, shuffle_bg_end=0.8,
                vae=None, projection="perspective") -> io.NodeOutput:
        if background != "none" and vae is None:
            raise ValueError(f"Background '{background}' needs the VAE to encode its colours: connect it to the Mesh "
                             "Texture node's vae input, or pick background 'none'.")
        loaded, texture = load_mesh(input_path(mesh, "Mesh", MESH_SUFFIXES), mesh_autouv)
        loaded = loaded.normalized(mesh_scale)
        angles = parse_angles(azimuths, "azimuths")
        cameras = orbit_cameras(angles, [elevation] * len(angles), distance, fov, top_views,
                                orthographic=projection == "orthographic", ortho_scale=1.1 * mesh_scale)
        schedule = None if background == "none" else BackgroundSchedule(shuffle_bg_change, shuffle_bg_end) \
            if background == "shuffle" else BackgroundSchedule(0.0, 0.0, fixed=background)
        scale = latent_scale(vae)
        space = MeshTexture(loaded, cameras, to_latent(view_size, "view_size", scale), latent_texture, rgb_texture,
                            schedule=schedule, device=comfy.model_management.get_torch_device())
        space = scaled_space(space, scale)
        if schedule is not None:
            space.vae_palette = as_views(encode_views(vae, colour_images())).float().mean((2, 3))
        return io.NodeOutput(space, own_texture(texture, rgb_texture))


BACKGROUNDS = ["shuffle", "black", "white", "none"]


def palette_in_model_units(space, model) -> None:
    """Give a mesh space with VAE-encoded background colours (``vae_palette``) its palette in ``model``'s
    latent units, which is what its views are in while sampling."""
    if isinstance(space, MeshTexture) and space.vae_palette is not None:
        colours = space.vae_palette[..., None, None]
        if model.get_model_object("latent_format").latent_dimensions == 3:
            colours = colours.unsqueeze(2)  # [K, C, 1, 1, 1]: a video-VAE model's latents have a time axis
        space.set_palette(as_views(model.model.process_latent_in(colours))[..., 0, 0])


def own_texture(image: Image.Image | None, size: int) -> torch.Tensor:
    """``image`` resized to ``size``², or mid-grey, as an IMAGE ``[1, size, size, 3]``."""
    if image is None:
        return torch.full((1, size, size, 3), 0.5)
    pixels = np.asarray(image.convert("RGB").resize((size, size), Image.Resampling.LANCZOS), dtype=np.float32)
    return torch.from_numpy(pixels / 255)[None]


def normal_hints(fragments, cameras) -> torch.Tensor:
    """Per-view normals in camera space as colours (x right → red, y up → green, towards the camera → blue),
    background black, ``[N, S, S, 3]``."""
    camera_normals = torch.einsum("nij,nhwj->nhwi", cameras.rotations.to(fragments.normal), fragments.normal)
    colours = (camera_normals * 0.5 + 0.5).clamp(0, 1)
    return colours * fragments.mask[..., None]


class MeshHintsNode(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="SyncTweediesMeshHints",
            display_name="SyncTweedies Mesh Depth and Normal Views",
            category=GUIDANCE,
            description="Depth and normal renders of every view, for ControlNet apply nodes (one hint per view).",
            inputs=[SyncSpace.Input("space", tooltip="The space from 'SyncTweedies Mesh Texture'.")],
            outputs=[io.Image.Output(display_name="depth", tooltip="Inverse depth per view (near is bright)."),
                     io.Image.Output(display_name="normal", tooltip="Camera-space normals per view.")],
        )

    @classmethod
    def execute(cls, space) -> io.NodeOutput:
        require_mesh(space, "Depth and normal views")
        pixels = space.scaled(space.latent_scale)
        depth = view_depth_hints(pixels.fragments.depth, pixels.fragments.mask)[..., None]
        depth = depth.expand(-1, -1, -1, 3).contiguous()
        return io.NodeOutput(depth, normal_hints(pixels.fragments, pixels.cameras))


class SaveTexturedMeshNode(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="SyncTweediesSaveTexturedMesh",
            display_name="SyncTweedies Save Textured Mesh",
            category=OUTPUT,
            description="Saves the textured mesh as .glb (texture embedded; opens in glTF viewers) or as .obj with "
                        "its .mtl and .png.",
            inputs=[*texture_inputs(),
                    io.String.Input("filename_prefix", default="SyncTweedies/mesh"),
                    io.Combo.Input("format", options=["glb", "obj"], default="glb", optional=True)],
            outputs=[io.String.Output(display_name="path", tooltip="Where the mesh was written."),
                     io.String.Output(display_name="model_file",
                                      tooltip="The file relative to the output folder: connect it to Preview3D.")],
            is_output_node=True,
        )

    @classmethod
    def validate_inputs(cls, format="glb") -> bool | str:
        return option_problem(cls, format=format) or True

    @classmethod
    def execute(cls, texture, space, filename_prefix: str, format: str = "glb") -> io.NodeOutput:
        require_mesh(space, "Saving a textured mesh")
        path, model_file = output_file(filename_prefix, f".{format}", texture.shape[2], texture.shape[1])
        pixels = (texture[0].detach().cpu().numpy().clip(0, 1) * 255).round().astype(np.uint8)
        writer = write_glb if format == "glb" else write_obj
        path = writer(space.mesh, path, Image.fromarray(pixels))
        files = [path] if format == "glb" else [path.with_suffix(suffix) for suffix in (".obj", ".mtl", ".png")]
        return io.NodeOutput(str(path), model_file, ui=saved_files_ui(files))


class TurntableNode(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="SyncTweediesMeshTurntable",
            display_name="SyncTweedies Mesh Turntable",
            category=OUTPUT,
            description="Renders the textured mesh turning once around, saves the animation and previews it.",
            inputs=[*texture_inputs(), *turntable_inputs("SyncTweedies/turntable")],
            outputs=[io.Image.Output(display_name="frames")],
            is_output_node=True,
            hidden=[io.Hidden.prompt, io.Hidden.extra_pnginfo],
        )

    @classmethod
    def validate_inputs(cls, format) -> bool | str:
        return option_problem(cls, format=format) or True

    @classmethod
    def execute(cls, texture, space, frames, size, elevation, fps, format, filename_prefix) -> io.NodeOutput:
        require_mesh(space, "The turntable")
        rig = space.cameras
        image = texture[0].detach().movedim(-1, 0).float().to(space.device)
        rendered = turntable(space.mesh.to(space.device), image, frames, size, elevation,
                             float(rig.positions[0].norm()), rig.fov)
        rendered = rendered.movedim(1, -1).clamp(0, 1).cpu()
        return io.NodeOutput(rendered, ui=save_animation(cls, rendered, filename_prefix, fps, format))
