# DVIS++ offline on VIPSeg: the temporal refiner (6 blocks) on the frozen online model
# (dvis_mask2former_r50_vipseg.py; load its checkpoint), trained on clips of 11
# consecutive frames, 20k iterations (DVIS++'s R50 VIPSeg offline recipe); tested on
# whole videos, one per batch. The same checkpoint runs online with --cfg-options
# model.mode=online test_dataloader.batch_sampler=None.
#   python tools/train.py configs/video/dvis-offline_mask2former_r50_vipseg.py \
#       --cfg-options load_from=DVIS_ONLINE.pth
_base_ = '../mask2former/mask2former_r50_40k_vipseg-panoptic.py'
from mmpanoptic.config_builders import dvis_model, video_clip_data  # noqa: E402

model = dvis_model({{_base_.model}}, num_layers=6, num_heads=8, feedforward_channels=2048,
                   clip_length=11, noise='wa', reid_weight=0.0, offline=True, kernel_size=5)
(train_pipeline, test_pipeline, train_dataloader, val_dataloader, test_dataloader,
 val_evaluator, test_evaluator) = video_clip_data('vipseg', clip_length=11, clips_per_batch=1)
val_dataloader['batch_sampler'] = dict(type='VideoBatchSampler')
test_dataloader = val_dataloader
max_iters = 20000
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
optim_wrapper = dict(optimizer=dict(lr=1e-4))
param_scheduler = [dict(_delete_=True, type='MultiStepLR', milestones=[14000], gamma=0.1,
                        by_epoch=False, begin=0, end=max_iters)]
