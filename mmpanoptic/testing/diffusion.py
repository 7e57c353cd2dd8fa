"""A small random Stable Diffusion and CLIP (diffusers / transformers
``save_pretrained`` folders) for the tests of ODISE's backbone and configs:
the loading code is the real one, the weights are made here (no download)."""
import json
from pathlib import Path
from typing import Tuple

import torch


def tiny_tokenizer(folder):
    from transformers import CLIPTokenizer
    folder.mkdir(parents=True, exist_ok=True)
    vocab = {'<|startoftext|>': 0, '<|endoftext|>': 1}
    for c in 'abcdefghijklmnopqrstuvwxyz':
        vocab[c] = len(vocab)
        vocab[c + '</w>'] = len(vocab)
    (folder / 'vocab.json').write_text(json.dumps(vocab))
    (folder / 'merges.txt').write_text('#version: 0.2\n')
    return CLIPTokenizer(str(folder / 'vocab.json'), str(folder / 'merges.txt'),
                         model_max_length=77)


def tiny_stable_diffusion(root: Path, *, captioner_dim: int = 24) -> Tuple[str, str]:
    """A Stable Diffusion 1.x-layout folder (4 UNet levels, 3 resnets per
    decoder level, a 4-level VAE, a CLIP text encoder) and a CLIP vision
    folder for the captioner, with random weights."""
    from diffusers import AutoencoderKL, DDPMScheduler, UNet2DConditionModel
    from transformers import (
        CLIPTextConfig,
        CLIPTextModel,
        CLIPVisionConfig,
        CLIPVisionModelWithProjection,
    )
    torch.manual_seed(0)
    tokenizer = tiny_tokenizer(root / 'sd' / 'tokenizer')
    parts = dict(
        unet=UNet2DConditionModel(
            sample_size=8, in_channels=4, out_channels=4, layers_per_block=2,
            block_out_channels=(32, 64, 64, 64),
            down_block_types=('CrossAttnDownBlock2D',) * 3 + ('DownBlock2D',),
            up_block_types=('UpBlock2D',) + ('CrossAttnUpBlock2D',) * 3,
            cross_attention_dim=32, attention_head_dim=4, norm_num_groups=8),
        vae=AutoencoderKL(
            in_channels=3, out_channels=3, down_block_types=('DownEncoderBlock2D',) * 4,
            up_block_types=('UpDecoderBlock2D',) * 4, block_out_channels=(16, 32, 32, 32),
            layers_per_block=2, latent_channels=4, norm_num_groups=8),
        text_encoder=CLIPTextModel(CLIPTextConfig(
            vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64,
            num_hidden_layers=2, num_attention_heads=4, max_position_embeddings=77,
            bos_token_id=0, eos_token_id=1, pad_token_id=1)),
        scheduler=DDPMScheduler(beta_start=0.00085, beta_end=0.012,
                                beta_schedule='scaled_linear', num_train_timesteps=1000))
    for name, part in dict(parts, tokenizer=tokenizer).items():
        part.save_pretrained(str(root / 'sd' / name))
    CLIPVisionModelWithProjection(CLIPVisionConfig(
        hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
        image_size=32, patch_size=8,
        projection_dim=captioner_dim)).save_pretrained(str(root / 'clip'))
    return str(root / 'sd'), str(root / 'clip')


def tiny_clip(root: Path, *, image_size: int = 64, patch_size: int = 8, layers: int = 4,
              projection_dim: int = 24) -> str:
    """A transformers ``CLIPModel`` folder (vision + text + tokenizer) with
    random weights: SAN's CLIP in the tests."""
    from transformers import CLIPConfig, CLIPModel
    torch.manual_seed(0)
    tokenizer = tiny_tokenizer(root / 'clip_tokenizer')
    config = CLIPConfig(
        text_config=dict(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64,
                         num_hidden_layers=2, num_attention_heads=4,
                         max_position_embeddings=77, bos_token_id=0, eos_token_id=1,
                         pad_token_id=1, projection_dim=projection_dim),
        vision_config=dict(hidden_size=48, intermediate_size=96, num_hidden_layers=layers,
                           num_attention_heads=4, image_size=image_size,
                           patch_size=patch_size, projection_dim=projection_dim),
        projection_dim=projection_dim)
    folder = root / 'clip_model'
    CLIPModel(config).save_pretrained(str(folder))
    tokenizer.save_pretrained(str(folder))
    return str(folder)
