# ODISE (Xu et al., CVPR 2023), label supervision: a Mask2Former on the
# internal features of a frozen Stable Diffusion v1.3 (one denoising step at
# t = 0, conditioned by an implicit captioner on CLIP ViT-L/14-336), its
# class layer a text classifier on CLIP ViT-L/14-336's text tower, trained on
# COCO panoptic categories (official configs/Panoptic/odise_label_coco_50e.py:
# 92188 iterations of 64 LSJ 1024-px images, AdamW 1e-4, weight decay 0.05).
# Weights (nothing is downloaded at run time), saved locally:
#   sd_folder:        a diffusers Stable Diffusion v1.3 folder (unet/, vae/,
#                     text_encoder/, tokenizer/, scheduler/)
#   captioner_folder: transformers' CLIPVisionModelWithProjection of
#                     openai/clip-vit-large-patch14-336
#   clip_checkpoint:  OpenAI's ViT-L-14-336px.pt (the text tower)
#   python tools/train.py configs/open_vocab/odise_sd-v1.3_label_coco-panoptic.py
# As ODISE: each query is classified from its mask-pooled embedding
# (PooledMaskEmbed, 256-d) against CLIP text embeddings projected to 256
# (CategoryEmbed's text_proj; the void embedding starts as the empty text's);
# at test time MaskCLIP on the captioner's CLIP ViT-L/14-336 classifies each
# mask too and the two are ensembled (PoolingCLIPHead: alpha 0.3 seen /
# beta 0.7 unseen).
# Differs from the official code on purpose (docs/open_vocabulary.md):
# - one prompt template set (ViLD's) for both classifiers (ODISE: its
#   prompt-engineered COCO names for training, "a photo of a {}." for the
#   CLIP head);
# - images are used at their size (padded to a multiple of 64), not resized
#   to 512 px with sliding windows;
# - the diffusion model stays frozen (its UNet is not given gradients).
_base_ = [
    '../_base_/models/mask2former_r50.py',
    '../_base_/datasets/coco_panoptic_lsj.py',
    '../_base_/schedules/mask2former_50e.py',
    '../_base_/default_runtime.py',
]
sd_folder = 'checkpoints/stable-diffusion-v1-3'
captioner_folder = 'checkpoints/clip-vit-large-patch14-336'
clip_checkpoint = 'checkpoints/ViT-L-14-336px.pt'
image_size = (1024, 1024)
model = dict(
    type='ODISE',
    alpha=0.3,
    beta=0.7,
    # MaskCLIP at test time (the captioner's CLIP; last_layer is SAN's split,
    # unused by MaskCLIP, which runs every layer)
    clip_head=dict(type='CLIPViT', pretrained=captioner_folder),
    # ODISE's input: RGB in [-1, 1] (its pixel_mean 0 / std 255, then (x - 0.5) / 0.5)
    data_preprocessor=dict(
        mean=[127.5, 127.5, 127.5],
        std=[127.5, 127.5, 127.5],
        pad_size_divisor=64,  # size_divisibility 64
        batch_augments=[
            dict(type='mmdet.BatchFixedSizePad', size=image_size, img_pad_value=0,
                 pad_mask=True, mask_pad_value=0, pad_seg=True, seg_pad_value=255)]),
    backbone=dict(
        _delete_=True,
        type='DiffusionBackbone',
        pretrained=sd_folder,
        captioner=captioner_folder,
        step=0,
        unet_block_indices=(2, 5, 8, 11),
        encoder_block_indices=(5, 7),
        decoder_block_indices=(2, 5),
        projection_dim=512,
        learnable_time_embed=True),
    panoptic_head=dict(
        in_channels=[512, 512, 512, 512],
        num_queries=100,
        pooled_mask_embed=dict(projection_dim=256),
        classifier=dict(
            type='TextEmbeddingClassifier',
            project='text',
            text_encoder=dict(type='CLIPTextEncoder', model_name='ViT-L-14',
                              checkpoint=clip_checkpoint, act='quick_gelu'),  # OpenAI CLIP
            vocabulary='coco_panoptic',
            templates='vild')),
    fusion=dict(object_mask_thr=0.0, iou_thr=0.8))  # object_mask_threshold / overlap_threshold

# 92188 iterations; the official schedule (a 100-epoch LSJ schedule evaluated
# over these iterations) warms up for 250 iterations from 0.067 and divides
# the rate by 10 at 81944 and 88777.
max_iters = 92188
optim_wrapper = dict(paramwise_cfg=dict(_delete_=True, norm_decay_mult=0.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.067, by_epoch=False, begin=0, end=250),
    dict(type='MultiStepLR', begin=0, end=max_iters, by_epoch=False,
         milestones=[81944, 88777], gamma=0.1)]
train_cfg = dict(max_iters=max_iters, dynamic_intervals=[(max_iters // 4500 * 4500 + 1,
                                                          max_iters)], val_interval=4500)
train_dataloader = dict(batch_size=8)  # x 8 GPUs = 64
custom_hooks = [
    dict(type='TextVocabularyHook'),
    dict(type='PanopticVisualizationHook', max_images=8),
]
default_hooks = dict(checkpoint=dict(type='CheckpointHook', by_epoch=False, save_last=True,
                                     max_keep_ckpts=3, interval=4500))
log_processor = dict(by_epoch=False)
