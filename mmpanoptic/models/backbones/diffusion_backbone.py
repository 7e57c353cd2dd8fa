"""ODISE's backbone: a frozen text-to-image diffusion model's internal
features, conditioned by an implicit captioner."""
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmpanoptic.registry import MODELS

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


def _require(module: str, extra: str):
    try:
        return __import__(module)
    except ImportError as e:
        raise ImportError(f'ODISE\'s diffusion backbone needs {module} ({extra}): '
                          f'pip install {extra}') from e


class _Bottleneck(nn.Module):
    """A residual bottleneck with GroupNorm (ODISE's feature projection:
    detectron2's ``BottleneckBlock`` with ``norm='GN'``)."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        mid = out_channels // 4

        def conv_gn(i, o, k):
            return nn.Sequential(nn.Conv2d(i, o, k, padding=k // 2, bias=False),
                                 nn.GroupNorm(32 if o % 32 == 0 else 1, o))
        self.shortcut = conv_gn(in_channels, out_channels, 1) \
            if in_channels != out_channels else nn.Identity()
        self.conv1, self.conv2 = conv_gn(in_channels, mid, 1), conv_gn(mid, mid, 3)
        self.conv3 = conv_gn(mid, out_channels, 1)

    def forward(self, x: Tensor) -> Tensor:
        y = F.relu(self.conv2(F.relu(self.conv1(x))))
        return F.relu(self.conv3(y) + self.shortcut(x))


class _PositionalLinear(nn.Module):
    """``linear(x)`` broadcast over ``seq_len`` positions plus a learned
    positional embedding: one image embedding -> a token sequence."""

    def __init__(self, in_features: int, out_features: int, seq_len: int) -> None:
        super().__init__()
        self.linear = nn.Linear(in_features, out_features)
        self.positional_embedding = nn.Parameter(torch.zeros(1, seq_len, out_features))
        nn.init.trunc_normal_(self.positional_embedding, std=0.02)

    def forward(self, x: Tensor) -> Tensor:
        return self.linear(x)[:, None] + self.positional_embedding


@MODELS.register_module()
class DiffusionBackbone(nn.Module):
    """ODISE (Xu et al., CVPR 2023): the internal features of a frozen
    Stable Diffusion 1.x (diffusers' ``AutoencoderKL`` + ``UNet2DConditionModel``)
    at one noise step, as a 4-level backbone (strides 4, 8, 16, 32) for a
    Mask2Former.

    The image (normalised to [-1, 1]) is encoded by the VAE (the posterior
    mean times the VAE's scaling factor), noised to timestep ``step`` with a
    fixed noise (seed 42, as ODISE's ``shared_noise``) by the diffusion
    scheduler, and denoised once by the UNet conditioned on the *implicit
    caption*: the empty caption's text-encoder states plus ``tanh(alpha)``
    times a learned projection of a CLIP image embedding of the same image
    (and the same for the time embedding).  Features are taken where ODISE
    takes them: the inputs of the UNet decoder's residual blocks
    ``unet_block_indices`` (after the skip concatenation; block ``k`` is
    resnet ``k % n`` of up-block ``k // n``), the outputs of the VAE
    encoder's blocks ``encoder_block_indices`` and of the VAE decoder's
    ``decoder_block_indices`` (the decoder runs on the clean latent).  Each
    feature is resized to its stride (clamped to 4..32), projected by a GN
    bottleneck to ``projection_dim`` channels, and features of one stride
    are summed.

    Our code runs diffusers' and transformers' own modules and reads the
    features with hooks, so the diffusion features are theirs by
    construction; the projections, the captioner's projections and the
    alphas are the trainable parts (zero alphas: training starts from the
    empty caption).  Differences from the official code: it resizes every
    image to 512 px (sliding windows in training); here the image is used at
    its size, padded to a multiple of 64.  The whole diffusion model stays
    frozen (ODISE re-enables the UNet's gradients in training mode).

    Args:
        pretrained: a diffusers Stable Diffusion folder (``unet/``, ``vae/``,
            ``text_encoder/``, ``tokenizer/``, ``scheduler/``), e.g.
            ``CompVis/stable-diffusion-v1-3`` saved locally.
        captioner: a transformers ``CLIPVisionModelWithProjection`` folder
            (ODISE: CLIP ViT-L/14 at 336 px) for the implicit captioner;
            ``None``: no captioner (the empty caption only).
        step: the noise timestep (ODISE: 0).
        unet_block_indices, encoder_block_indices, decoder_block_indices:
            ODISE's (2, 5, 8, 11), (5, 7), (2, 5).
        projection_dim: channels of each output level (ODISE: 512).
        learnable_time_embed: also condition the time embedding.
        parts: ``dict(unet=..., vae=..., text_encoder=..., tokenizer=...,
            scheduler=..., captioner=...)`` modules instead of folders
            (tests).
        arch: ``dict(unet=..., vae=..., text_encoder=..., scheduler=...,
            captioner=...)`` keyword arguments of diffusers'
            ``UNet2DConditionModel`` / ``AutoencoderKL`` / ``DDPMScheduler``
            and transformers' ``CLIPTextConfig`` / ``CLIPVisionConfig``:
            a randomly initialised model of that layout (toy configs); the
            empty caption is then ``[bos, eos, eos, ...]``.
    """

    def __init__(self, *, pretrained: Optional[str] = None, captioner: Optional[str] = None,
                 step: int = 0, unet_block_indices: Sequence[int] = (2, 5, 8, 11),
                 encoder_block_indices: Sequence[int] = (5, 7),
                 decoder_block_indices: Sequence[int] = (2, 5), projection_dim: int = 512,
                 min_stride: int = 4, max_stride: int = 32, learnable_time_embed: bool = True,
                 noise_seed: int = 42, parts: Optional[Dict[str, nn.Module]] = None,
                 arch: Optional[Dict[str, dict]] = None) -> None:
        super().__init__()
        parts = dict(parts or {})
        if pretrained is not None:
            parts = dict(self.load_parts(pretrained, captioner), **parts)
        if arch is not None:
            parts = dict(self.build_parts(arch), **parts)
        missing = [k for k in ('unet', 'vae', 'text_encoder', 'tokenizer', 'scheduler')
                   if k not in parts]
        if missing:
            raise ValueError(f'DiffusionBackbone needs pretrained=<a diffusers Stable '
                             f'Diffusion folder> (or parts); missing {missing}')
        self.unet, self.vae = parts['unet'], parts['vae']
        self.scheduler = parts['scheduler']
        self.captioner = parts.get('captioner')
        for module in (self.unet, self.vae, self.captioner):
            if module is not None:
                module.requires_grad_(False).eval()
        self.step = int(step)
        self.register_buffer('uncond', self.empty_caption(parts['text_encoder'],
                                                          parts['tokenizer']),
                             persistent=False)
        gen = torch.Generator().manual_seed(noise_seed)
        latent_channels = self.unet.config.in_channels
        self.register_buffer('shared_noise', torch.randn(1, latent_channels, 64, 64,
                                                         generator=gen), persistent=False)

        self.taps = self._taps(unet_block_indices, encoder_block_indices, decoder_block_indices)
        self.decoder_taps = bool(decoder_block_indices)
        strides = sorted({min(max(s, min_stride), max_stride) for _, _, _, s in self.taps})
        if len(strides) != 4:
            raise ValueError(f'the chosen blocks give strides {strides}; a 4-level backbone '
                             f'needs 4 distinct strides in [{min_stride}, {max_stride}]')
        self.strides = strides
        self.min_stride, self.max_stride = min_stride, max_stride
        self.out_channels = [projection_dim] * 4
        self.projections = nn.ModuleList(_Bottleneck(c, projection_dim)
                                         for _, _, c, _ in self.taps)
        tokens, width = self.uncond.shape[1:]
        self.alpha_cond = nn.Parameter(torch.zeros(1, tokens, width))
        self.learnable_time_embed = learnable_time_embed and self.captioner is not None
        if self.captioner is not None:
            dim = self.captioner.config.projection_dim
            self.clip_project = _PositionalLinear(dim, width, tokens)
            if self.learnable_time_embed:
                time_dim = self.unet.time_embedding.linear_2.out_features
                self.time_embed_project = _PositionalLinear(dim, time_dim, 1)
                self.alpha_cond_time_embed = nn.Parameter(torch.zeros(time_dim))
        self._features: Dict[int, Tensor] = {}
        self._time_cond: Optional[Tensor] = None
        self._hooks = []
        for k, (module, pre, _, _) in enumerate(self.taps):
            if pre:
                self._hooks.append(module.register_forward_pre_hook(self._save_input(k)))
            else:
                self._hooks.append(module.register_forward_hook(self._save_output(k)))
        self.unet.time_embedding.register_forward_hook(self._add_time_cond)

    # ------------------------------------------------------------ loading
    @staticmethod
    def load_parts(pretrained: str, captioner: Optional[str]) -> Dict[str, nn.Module]:
        """The diffusers / transformers parts from local folders."""
        _require('diffusers', 'diffusers')
        from diffusers import AutoencoderKL, DDPMScheduler, UNet2DConditionModel
        from transformers import CLIPTextModel, CLIPTokenizer
        if not osp.isdir(pretrained):
            raise FileNotFoundError(f'{pretrained}: not a diffusers Stable Diffusion folder')
        for sub in ('unet', 'vae', 'text_encoder', 'tokenizer', 'scheduler'):
            if not osp.isdir(osp.join(pretrained, sub)):
                raise FileNotFoundError(f'{pretrained}: no {sub}/ folder (a diffusers Stable '
                                        'Diffusion folder has unet/, vae/, text_encoder/, '
                                        'tokenizer/, scheduler/)')
        parts = dict(
            unet=UNet2DConditionModel.from_pretrained(pretrained, subfolder='unet'),
            vae=AutoencoderKL.from_pretrained(pretrained, subfolder='vae'),
            text_encoder=CLIPTextModel.from_pretrained(pretrained, subfolder='text_encoder'),
            tokenizer=CLIPTokenizer.from_pretrained(pretrained, subfolder='tokenizer'),
            scheduler=DDPMScheduler.from_pretrained(pretrained, subfolder='scheduler'))
        if captioner is not None:
            from transformers import CLIPVisionModelWithProjection
            parts['captioner'] = CLIPVisionModelWithProjection.from_pretrained(captioner)
        return parts

    @staticmethod
    def build_parts(arch: Dict[str, dict]) -> Dict[str, nn.Module]:
        """Randomly initialised parts of the given layouts (see ``arch``)."""
        _require('diffusers', 'diffusers')
        from diffusers import AutoencoderKL, DDPMScheduler, UNet2DConditionModel
        from transformers import (
            CLIPTextConfig,
            CLIPTextModel,
            CLIPVisionConfig,
            CLIPVisionModelWithProjection,
        )
        text = CLIPTextModel(CLIPTextConfig(**arch['text_encoder']))
        length = text.config.max_position_embeddings

        def tokenizer(texts, **kwargs):  # the empty caption only: bos, then eos padding
            ids = torch.full((len(texts), length), text.config.eos_token_id)
            ids[:, 0] = text.config.bos_token_id
            return type('Tokens', (), dict(input_ids=ids))
        tokenizer.model_max_length = length
        parts = dict(unet=UNet2DConditionModel(**arch['unet']),
                     vae=AutoencoderKL(**arch['vae']), text_encoder=text, tokenizer=tokenizer,
                     scheduler=DDPMScheduler(**arch.get('scheduler', {})))
        if arch.get('captioner'):
            parts['captioner'] = CLIPVisionModelWithProjection(
                CLIPVisionConfig(**arch['captioner']))
        return parts

    @staticmethod
    @torch.no_grad()
    def empty_caption(text_encoder: nn.Module, tokenizer) -> Tensor:
        """(1, L, C) text-encoder states of the empty caption (padded to the
        tokenizer's length), the unconditional input of Stable Diffusion."""
        ids = tokenizer([''], padding='max_length', max_length=tokenizer.model_max_length,
                        return_tensors='pt').input_ids
        return text_encoder.eval()(ids)[0].float()

    def _taps(self, unet_idx, enc_idx, dec_idx) -> List[Tuple[nn.Module, bool, int, int]]:
        """(module, read its input?, channels, stride) of each feature."""
        taps = []
        latent_stride = 2 ** (len(self.vae.encoder.down_blocks) - 1)
        ups = self.unet.up_blocks
        per_up = len(ups[0].resnets)
        for k in unet_idx:
            block, j = divmod(k, per_up)
            if block >= len(ups):
                raise IndexError(f'unet block {k}: the UNet has {len(ups) * per_up}')
            resnet = ups[block].resnets[j]
            stride = latent_stride * 2 ** (len(ups) - 1 - block)
            taps.append((resnet, True, resnet.in_channels, stride))
        downs = self.vae.encoder.down_blocks
        per_down = len(downs[0].resnets)
        for k in enc_idx:
            level, j = divmod(k, per_down)
            resnet = downs[level].resnets[j]
            taps.append((resnet, False, resnet.out_channels, 2 ** level))
        dec = self.vae.decoder.up_blocks
        per_dec = len(dec[0].resnets)
        for k in dec_idx:
            level, j = divmod(k, per_dec)
            resnet = dec[level].resnets[j]
            taps.append((resnet, False, resnet.out_channels, latent_stride // 2 ** level))
        return taps

    def _save_input(self, k: int):
        def hook(module, args):
            self._features[k] = args[0]
        return hook

    def _save_output(self, k: int):
        def hook(module, args, output):
            self._features[k] = output
        return hook

    def _add_time_cond(self, module, args, output):
        return output if self._time_cond is None else output + self._time_cond

    def train(self, mode: bool = True) -> 'DiffusionBackbone':
        super().train(mode)
        for module in (self.unet, self.vae, self.captioner):
            if module is not None:
                module.eval()  # frozen
        return self

    # ------------------------------------------------------------ forward
    def conditioning(self, x: Tensor) -> Tuple[Tensor, Optional[Tensor]]:
        """(B, L, C) UNet context and (B, time_dim) time-embedding offset
        from the implicit captioner (the empty caption without one)."""
        b = x.shape[0]
        context = self.uncond.expand(b, -1, -1)
        if self.captioner is None:
            return context, None
        size = self.captioner.config.image_size
        mean = x.new_tensor(CLIP_MEAN)[:, None, None]
        std = x.new_tensor(CLIP_STD)[:, None, None]
        clip_in = (F.interpolate((x + 1) / 2, size=(size, size), mode='bicubic',
                                 align_corners=False) - mean) / std
        with torch.no_grad():
            embed = self.captioner(pixel_values=clip_in).image_embeds
        context = context + torch.tanh(self.alpha_cond) * self.clip_project(embed)
        time_cond = None
        if self.learnable_time_embed:
            time_cond = torch.tanh(self.alpha_cond_time_embed) * \
                self.time_embed_project(embed)[:, 0]
        return context, time_cond

    def forward(self, x: Tensor) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
        """(B, 3, H, W) in [-1, 1] -> 4 levels (strides 4, 8, 16, 32)."""
        h, w = x.shape[-2:]
        pad_h, pad_w = (-h) % 64, (-w) % 64
        padded = F.pad(x, (0, pad_w, 0, pad_h))
        context, time_cond = self.conditioning(padded)
        self._features = {}
        with torch.no_grad():
            latent = self.vae.encode(padded).latent_dist.mean * self.vae.config.scaling_factor
            t = torch.full((x.shape[0],), self.step, dtype=torch.long, device=x.device)
            noise = self.shared_noise
            if noise.shape[-2:] != latent.shape[-2:]:  # ODISE resizes its noise bicubically
                noise = F.interpolate(noise, size=latent.shape[-2:], mode='bicubic',
                                      align_corners=False)
            noisy = self.scheduler.add_noise(latent, noise.expand_as(latent).to(latent), t)
            if self.decoder_taps:
                self.vae.decode(latent)  # the decoder blocks' features (clean latent)
        # the UNet with gradients to the conditioning (the captioner's
        # projections and alphas are trained through it)
        self._time_cond = time_cond
        try:
            self.unet(noisy, t, encoder_hidden_states=context)
        finally:
            self._time_cond = None
        outs = []
        for stride in self.strides:
            size = ((h + pad_h) // stride, (w + pad_w) // stride)
            total = None
            for k, (_, _, _, s) in enumerate(self.taps):
                if min(max(s, self.min_stride), self.max_stride) != stride:
                    continue
                feat = self.projections[k](F.interpolate(self._features[k].float(), size=size))
                total = feat if total is None else total + feat
            outs.append(total[..., :-(-h // stride), :-(-w // stride)])  # unpadded part
        self._features = {}
        return tuple(outs)
