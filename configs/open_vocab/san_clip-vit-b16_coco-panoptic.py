# SAN (Xu et al., CVPR 2023): a side adapter network beside a frozen CLIP
# ViT-B/16 (its first 9 layers give features, the last 3 recognise each mask
# proposal through attention biases), CLIP at half the image resolution, the
# adapter (a 240-wide, 8-block ViT with 100 queries) at full resolution.
# Official: configs/san_clip_vit_res4_coco.yaml (COCO-Stuff-164K, 171 classes,
# 60k iterations of 32 crops of 640 px, AdamW 1e-4, weight decay 1e-4).
# Weights (nothing is downloaded at run time): transformers' CLIP folder of
# openai/clip-vit-base-patch16, saved as clip_folder below (both towers).
#   python tools/train.py configs/open_vocab/san_clip-vit-b16_coco-panoptic.py
# Differs from the official recipe on purpose: trained on COCO panoptic's
# 133 classes (things and stuff, so the same model gives panoptic results),
# with mmpanoptic's shared mask-classification losses and fusion; the class
# layer's temperature and void embedding are learned (see the SAN docstring).
# Zero-shot: san_clip-vit-b16_coco-panoptic_zero-shot_ade20k.py.
_base_ = [
    '../_base_/models/mask2former_r50.py',
    '../_base_/datasets/coco_panoptic.py',
    '../_base_/default_runtime.py',
]
from mmpanoptic.config_builders import train_pipeline  # noqa: E402

clip_folder = 'checkpoints/clip-vit-base-patch16'
crop_size = (640, 640)
# The criterion (class 2, mask 5, dice 5, no-object 0.1, 112 x 112 sampled
# points) and the fusion are Mask2Former's, as SAN's.
model = dict(
    type='SAN',
    # CLIP's normalisation (RGB); images padded to a multiple of 32
    data_preprocessor=dict(
        mean=[122.7709383, 116.7460125, 104.09373615],
        std=[68.5005327, 66.6321579, 70.32316305],
        batch_augments=[dict(type='mmdet.BatchFixedSizePad', size=crop_size, img_pad_value=0,
                             pad_mask=True, mask_pad_value=0, pad_seg=True,
                             seg_pad_value=255)]),
    backbone=dict(_delete_=True, type='CLIPViT', pretrained=clip_folder, last_layer=9,
                  resolution=0.5),
    panoptic_head=dict(
        _delete_=True,
        type='SideAdapterHead',
        num_queries=100, embed_dims=240, num_heads=6, depth=8, patch_size=16, img_size=640,
        fusion_map={0: 0, 3: 1, 6: 2, 9: 3}, deep_supervision=(7, 8), bias_layers=1,
        classifier=dict(
            type='TextEmbeddingClassifier',
            text_encoder=dict(type='HFCLIPTextEncoder', pretrained=clip_folder),
            vocabulary='coco_panoptic',
            templates='vild',  # CLIP_TEMPLATE_SET
            init_temperature=0.01,  # CLIP's logit scale 100
            project=False)))  # the [SOS] tokens are in CLIP's space already

train_pipeline = train_pipeline(
    dict(type='mmdet.RandomResize', scale=(2048, 640), ratio_range=(0.5, 2.0),
         keep_ratio=True),
    crop_size=crop_size)
train_dataloader = dict(batch_size=4, dataset=dict(pipeline=train_pipeline))  # x 8 GPUs
max_iters = 60000
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-4, weight_decay=1e-4),
    paramwise_cfg=dict(custom_keys={'query_embed': dict(decay_mult=0.0),
                                    'pos_embed': dict(decay_mult=0.0),
                                    'position_embedding': dict(decay_mult=0.0)}),
    clip_grad=dict(max_norm=0.01, norm_type=2))
param_scheduler = dict(type='PolyLR', eta_min=0, power=0.9, begin=0, end=max_iters,
                       by_epoch=False)
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=5000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
custom_hooks = [dict(type='TextVocabularyHook')]
default_hooks = dict(checkpoint=dict(type='CheckpointHook', by_epoch=False, save_last=True,
                                     max_keep_ckpts=3, interval=5000))
log_processor = dict(by_epoch=False)
