# Mask2Former trained from scratch on the bundled toy data (128x128) on CPU.
#   python tools/dataset_converters/make_toy_panoptic.py --out data/toy
#   python tools/train.py configs/mask2former/mask2former_r18_toy.py
_base_ = [
    '../_base_/models/mask2former_r50.py',
    '../_base_/datasets/toy_panoptic.py',
    '../_base_/default_runtime.py',
]

# The only place the class counts of the toy data are written.
num_things_classes = 4  # ellipse, box, triangle, ring
num_stuff_classes = 4  # sky, grass, water, sand
width = 64  # pixel decoder / query width: a quarter of COCO's 256
heads = 4

attn = dict(embed_dims=width, num_heads=heads, dropout=0.0, batch_first=True)
ffn = dict(embed_dims=width, feedforward_channels=4 * width, num_fcs=2, ffn_drop=0.0,
           act_cfg=dict(type='ReLU', inplace=True))
model = dict(
    num_things_classes=num_things_classes,
    num_stuff_classes=num_stuff_classes,
    backbone=dict(depth=18, norm_cfg=dict(type='BN', requires_grad=True),
                  norm_eval=False, init_cfg=None),  # from scratch, BN trains
    panoptic_head=dict(
        in_channels=[64, 128, 256, 512],
        feat_channels=width,
        out_channels=width,
        num_queries=20,  # toy images hold at most ~10 segments
        pixel_decoder=dict(
            norm_cfg=dict(type='GN', num_groups=16),
            encoder=dict(num_layers=2,
                         layer_cfg=dict(self_attn_cfg=dict(embed_dims=width, num_heads=heads,
                                                           num_levels=3, num_points=4,
                                                           dropout=0.0, batch_first=True),
                                        ffn_cfg=ffn)),
            positional_encoding=dict(num_feats=width // 2)),
        positional_encoding=dict(num_feats=width // 2),
        transformer_decoder=dict(
            num_layers=6,  # two rounds over the three levels
            layer_cfg=dict(self_attn_cfg=attn, cross_attn_cfg=attn, ffn_cfg=ffn))),
    # 32x32 mask logits hold 1024 pixels: sample that many points.
    criterion=dict(matcher=dict(num_points=1024), num_points=1024),
    # filter_low_score=False: the toy results in docs/ (and the video and
    # open-vocabulary toys built on this config) were measured without
    # Mask2Former's 0.5 mask-probability filter, which the COCO configs use.
    fusion=dict(instance_on=True, filter_low_score=False))

max_iters = 2000
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=4e-4, weight_decay=0.05, eps=1e-8, betas=(0.9, 0.999)),
    clip_grad=dict(max_norm=0.01, norm_type=2),  # Mask2Former's clipping
    paramwise_cfg=dict(norm_decay_mult=0.0, custom_keys=dict(
        query_embed=dict(decay_mult=0.0), query_feat=dict(decay_mult=0.0),
        level_embed=dict(decay_mult=0.0))))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=100),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=100, end=max_iters, eta_min=1e-5),
]
default_hooks = dict(
    logger=dict(interval=25),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=1000, max_keep_ckpts=1))
log_processor = dict(by_epoch=False, window_size=25)
randomness = dict(seed=0)
