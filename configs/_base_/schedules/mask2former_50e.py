# Mask2Former's COCO schedule: 368750 iterations of batch 16 (~50 epochs),
# AdamW 1e-4, weight decay 0.05 (none on norms and query/level embeddings),
# backbone at 0.1x learning rate, steps at 88.9% and 96.3%, gradient clipped
# to norm 0.01.  The parameter groups also cover Swin backbones (their norms
# and position tables take no weight decay); keys that match no parameter of
# a ResNet are harmless.
max_iters = 368750
interval = 5000
embed_multi = dict(lr_mult=1.0, decay_mult=0.0)
backbone_norm = dict(lr_mult=0.1, decay_mult=0.0)
swin_depths = [2, 2, 18, 2]  # the deepest Swin (S/B/L); T has fewer blocks
custom_keys = {
    'backbone': dict(lr_mult=0.1, decay_mult=1.0),
    'backbone.patch_embed.norm': backbone_norm,
    'backbone.norm': backbone_norm,
    'absolute_pos_embed': backbone_norm,
    'relative_position_bias_table': backbone_norm,
    'query_embed': embed_multi,
    'query_feat': embed_multi,
    'level_embed': embed_multi,
}
custom_keys.update({
    f'backbone.stages.{stage}.blocks.{block}.norm': backbone_norm
    for stage, num_blocks in enumerate(swin_depths) for block in range(num_blocks)
})
custom_keys.update({
    f'backbone.stages.{stage}.downsample.norm': backbone_norm
    for stage in range(len(swin_depths) - 1)
})
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=0.0001, weight_decay=0.05, eps=1e-8, betas=(0.9, 0.999)),
    paramwise_cfg=dict(custom_keys=custom_keys, norm_decay_mult=0.0),
    clip_grad=dict(max_norm=0.01, norm_type=2))
param_scheduler = dict(type='MultiStepLR', begin=0, end=max_iters, by_epoch=False,
                       milestones=[327778, 355092], gamma=0.1)
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=interval)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
# Learning rate written for 16 images per iteration (8 GPUs x 2).
auto_scale_lr = dict(enable=False, base_batch_size=16)
