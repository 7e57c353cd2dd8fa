# DVIS++ offline on KITTI-STEP: the temporal refiner (6 blocks) on the frozen
# online model (dvis_mask2former_r50_kitti-step.py; load its checkpoint), trained on
# clips of 11 consecutive frames, 20k iterations (DVIS++'s R50 VIPSeg offline
# recipe); tested on whole videos, one per batch.  The same checkpoint runs
# online with --cfg-options model.mode=online.
#   python tools/train.py configs/video/dvis-offline_mask2former_r50_kitti-step.py \
#       --cfg-options load_from=DVIS_ONLINE.pth
_base_ = './dvis_mask2former_r50_kitti-step.py'
from mmpanoptic.config_builders import video_clip_data  # noqa: E402

clip_length = 11
model = dict(
    refiner=dict(type='TemporalRefiner', num_layers=6, num_heads=8,
                 feedforward_channels=2048, kernel_size=5),
    clip_length=clip_length,
    mode='offline',
    train_part='refiner')
(train_pipeline, test_pipeline, train_dataloader, val_dataloader, test_dataloader,
 val_evaluator, test_evaluator) = video_clip_data('kitti_step', clip_length=clip_length,
                                                  clips_per_batch=1)
val_dataloader['batch_sampler'] = dict(type='VideoBatchSampler')
test_dataloader = val_dataloader
