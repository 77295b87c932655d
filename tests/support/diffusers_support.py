"""Random-weight diffusers pipelines for tests and benchmarks of the standalone command (no hub)."""
from __future__ import annotations

import json
from pathlib import Path


def write_sd_pipeline(folder: Path, unet, vae, text_config) -> Path:
    """Save a StableDiffusionPipeline of ``unet``, ``vae``, a CLIP text model of ``text_config`` (random weights)
    and a letter-level CLIP tokenizer (its vocab written here) to ``folder``; returns ``folder``."""
    from diffusers import DDIMScheduler, StableDiffusionPipeline
    from transformers import CLIPTextModel, CLIPTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for letter in "abcdefghijklmnopqrstuvwxyz":
        vocab[letter], vocab[f"{letter}</w>"] = len(vocab), len(vocab) + 1
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    tokenizer = CLIPTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"), model_max_length=77)
    scheduler = DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", clip_sample=False,
                              set_alpha_to_one=False, steps_offset=1)
    StableDiffusionPipeline(vae=vae, text_encoder=CLIPTextModel(text_config), tokenizer=tokenizer, unet=unet,
                            scheduler=scheduler, safety_checker=None, feature_extractor=None,
                            requires_safety_checker=False).save_pretrained(folder)
    return folder


def tiny_sd_pipeline(folder: Path) -> Path:
    """A StableDiffusionPipeline folder: 2-level UNet, 8x KL VAE, 2-layer CLIP text model, a letter tokenizer."""
    import torch
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextConfig

    torch.manual_seed(0)
    unet = UNet2DConditionModel(sample_size=8, block_out_channels=(32, 64), layers_per_block=1,
                                down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
                                up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"), cross_attention_dim=32,
                                attention_head_dim=4, norm_num_groups=8)
    vae = AutoencoderKL(block_out_channels=(8, 8, 8, 8), down_block_types=("DownEncoderBlock2D",) * 4,
                        up_block_types=("UpDecoderBlock2D",) * 4, layers_per_block=1, norm_num_groups=4,
                        sample_size=64)
    text = CLIPTextConfig(vocab_size=54, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                          num_attention_heads=4, max_position_embeddings=77, bos_token_id=0, eos_token_id=1,
                          pad_token_id=1)
    return write_sd_pipeline(folder, unet, vae, text)


def tiny_controlnet(pipeline: Path, folder: Path) -> Path:
    """A diffusers ControlNet folder for the UNet of ``pipeline``, random weights with a non-zero output (a
    fresh ControlNet's zero convolutions would make it do nothing)."""
    import torch
    from diffusers import ControlNetModel, UNet2DConditionModel

    torch.manual_seed(1)
    controlnet = ControlNetModel.from_unet(UNet2DConditionModel.from_pretrained(pipeline / "unet"),
                                           conditioning_embedding_out_channels=(8, 8, 8, 16))
    with torch.no_grad():
        for name, parameter in controlnet.named_parameters():
            if "zero_conv" in name or "controlnet_down_blocks" in name or "controlnet_mid_block" in name \
                    or "conv_out" in name:
                parameter.normal_(0, 0.5)
    controlnet.save_pretrained(folder)
    return folder
