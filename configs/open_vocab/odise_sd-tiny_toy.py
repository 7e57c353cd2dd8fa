# ODISE's architecture on the bundled toy data (CPU): a small Stable
# Diffusion layout (diffusers' UNet2DConditionModel and AutoencoderKL,
# transformers' CLIP text encoder and, for the implicit captioner, a CLIP
# vision tower; random weights, frozen as ODISE freezes its diffusion model)
# read at ODISE's taps, projected to 4 strides, under the toy Mask2Former
# with the MiniLM text classifier on the queries (ODISE's mask-pooled class
# embedding, its text-side projection and MaskCLIP head are in the full
# config; on this toy they learned less in the default tier's 100 steps, and a
# random CLIP would only add noise).  It checks that the projections, the
# captioner's conditioning and the mask decoder learn on frozen diffusion
# features; ODISE's claims need Stable Diffusion's weights
# (configs/open_vocab/odise_sd-v1.3_label_coco-panoptic.py).
#   python tools/dataset_converters/make_toy_panoptic.py --out data/toy
#   python tools/train.py configs/open_vocab/odise_sd-tiny_toy.py
_base_ = '../mask2former/mask2former_r18_toy.py'
from mmpanoptic.config_builders import no_decay, toy_text_classifier  # noqa: E402

model = dict(
    data_preprocessor=dict(mean=[127.5, 127.5, 127.5], std=[127.5, 127.5, 127.5],
                           pad_size_divisor=64),  # ODISE's [-1, 1] input
    backbone=dict(
        _delete_=True, type='DiffusionBackbone',
        arch=dict(
            unet=dict(sample_size=16, in_channels=4, out_channels=4, layers_per_block=2,
                      block_out_channels=(32, 64, 64, 64),
                      down_block_types=('CrossAttnDownBlock2D',) * 3 + ('DownBlock2D',),
                      up_block_types=('UpBlock2D',) + ('CrossAttnUpBlock2D',) * 3,
                      cross_attention_dim=32, attention_head_dim=4, norm_num_groups=8),
            vae=dict(in_channels=3, out_channels=3,
                     down_block_types=('DownEncoderBlock2D',) * 4,
                     up_block_types=('UpDecoderBlock2D',) * 4,
                     block_out_channels=(16, 32, 32, 32), layers_per_block=2,
                     latent_channels=4, norm_num_groups=8),
            text_encoder=dict(vocab_size=1000, hidden_size=32, intermediate_size=64,
                              num_hidden_layers=2, num_attention_heads=4,
                              max_position_embeddings=16, bos_token_id=0, eos_token_id=1,
                              pad_token_id=1),
            scheduler=dict(beta_start=0.00085, beta_end=0.012,
                           beta_schedule='scaled_linear', num_train_timesteps=1000),
            captioner=dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                           num_attention_heads=4, image_size=32, patch_size=8,
                           projection_dim=32)),
        step=0, unet_block_indices=(2, 5, 8, 11), encoder_block_indices=(5, 7),
        decoder_block_indices=(2, 5), projection_dim=64),
    panoptic_head=dict(in_channels=[64, 64, 64, 64], classifier=toy_text_classifier()))
custom_hooks = [dict(type='TextVocabularyHook')]
optim_wrapper = dict(paramwise_cfg=dict(custom_keys=no_decay(
    'query_embed', 'query_feat', 'level_embed', 'logit_scale', 'void_embedding')))
