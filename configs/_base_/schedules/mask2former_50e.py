# Mask2Former's COCO schedule: 368750 iterations of batch 16 (~50 epochs),
# AdamW 1e-4, weight decay 0.05 (none on norms and query/level embeddings),
# backbone at 0.1x learning rate, steps at 88.9% and 96.3%, gradient clipped
# to norm 0.01.
max_iters = 368750
interval = 5000
embed_multi = dict(lr_mult=1.0, decay_mult=0.0)
custom_keys = {
    'backbone': dict(lr_mult=0.1, decay_mult=1.0),
    'query_embed': embed_multi,
    'query_feat': embed_multi,
    'level_embed': embed_multi,
}
# Swin backbones add their norms and position tables to these groups (backbone
# learning rate, no weight decay; mmdet's keys), one dict per depth layout:
#   optim_wrapper = dict(paramwise_cfg=dict(custom_keys={{_base_.swin_custom_keys.deep}}))
swin_norm = dict(lr_mult=0.1, decay_mult=0.0)
swin_custom_keys = {
    layout: dict(
        {'backbone.patch_embed.norm': swin_norm, 'backbone.norm': swin_norm,
         'absolute_pos_embed': swin_norm, 'relative_position_bias_table': swin_norm},
        **{f'backbone.stages.{stage}.blocks.{block}.norm': swin_norm
           for stage, blocks in enumerate(depths) for block in range(blocks)},
        **{f'backbone.stages.{stage}.downsample.norm': swin_norm for stage in range(3)})
    for layout, depths in (('tiny', (2, 2, 6, 2)), ('deep', (2, 2, 18, 2)))
}
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=0.0001, weight_decay=0.05, eps=1e-8, betas=(0.9, 0.999)),
    paramwise_cfg=dict(custom_keys=custom_keys, norm_decay_mult=0.0),
    clip_grad=dict(max_norm=0.01, norm_type=2))
param_scheduler = dict(type='MultiStepLR', begin=0, end=max_iters, by_epoch=False,
                       milestones=[327778, 355092], gamma=0.1)
# Evaluate every `interval` iterations, then once more at the very end.
dynamic_intervals = [(max_iters // interval * interval + 1, max_iters)]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=interval,
                 dynamic_intervals=dynamic_intervals)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
# Learning rate written for 16 images per iteration (8 GPUs x 2).
auto_scale_lr = dict(enable=False, base_batch_size=16)
