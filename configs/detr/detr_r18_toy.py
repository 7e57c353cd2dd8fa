# DETR panoptic trained from scratch on the bundled toy data (128x128) on CPU:
# a ResNet-18 at full width with DETR's DC5 variant (the last stage dilated,
# stride 16: an 8x8 map at 128 px instead of 4x4), a 2 + 6 layer transformer
# of width 64, 20 queries; detector and mask head learn together.
# What 2000 steps give (docs/results/toy_detr.json): PQ 0 -- the stuff
# queries learn the scene's classes, the thing queries do not yet localise
# (DETR's slow convergence), and the mask head does not yet tell the queries
# apart: it reads each query's attention map, which sums to 1 over heads and
# pixels, a signal DETR's schedule (25 COCO epochs on a trained detector)
# takes long to amplify (docs/query_models.md, DETR panoptic).
#   python tools/dataset_converters/make_toy_panoptic.py --out data/toy
#   python tools/train.py configs/detr/detr_r18_toy.py
_base_ = [
    '../_base_/models/detr_r50.py',
    '../_base_/datasets/toy_panoptic.py',
    '../_base_/default_runtime.py',
]

# The only place the class counts of the toy data are written.
num_things_classes = 4  # ellipse, box, triangle, ring
num_stuff_classes = 4  # sky, grass, water, sand
width = 64
# 8 heads: the mask head's GroupNorm(8) takes width + heads channels
attn = dict(embed_dims=width, num_heads=8, dropout=0.0, batch_first=True)
ffn = dict(embed_dims=width, feedforward_channels=4 * width, num_fcs=2, ffn_drop=0.0,
           act_cfg=dict(type='ReLU', inplace=True))
model = dict(
    num_things_classes=num_things_classes,
    num_stuff_classes=num_stuff_classes,
    backbone=dict(depth=18, frozen_stages=-1, norm_cfg=dict(type='BN', requires_grad=True),
                  norm_eval=False, init_cfg=None,  # from scratch, BN trains
                  strides=(1, 2, 2, 1), dilations=(1, 1, 1, 2)),  # DC5
    panoptic_head=dict(
        in_channels=[64, 128, 256, 512],
        num_queries=20,  # toy images hold at most ~10 segments
        encoder=dict(num_layers=2, layer_cfg=dict(self_attn_cfg=attn, ffn_cfg=ffn)),
        decoder=dict(num_layers=6,
                     layer_cfg=dict(self_attn_cfg=attn, cross_attn_cfg=attn, ffn_cfg=ffn)),
        positional_encoding=dict(num_feats=width // 2)),
    fusion=dict(object_mask_thr=0.5, instance_on=True))

max_iters = 2000
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=2e-4, weight_decay=1e-4),
    clip_grad=dict(max_norm=0.1, norm_type=2))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=100),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=100, end=max_iters, eta_min=1e-5),
]
default_hooks = dict(
    logger=dict(interval=25),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=1000, max_keep_ckpts=1))
log_processor = dict(by_epoch=False, window_size=25)
randomness = dict(seed=0)
