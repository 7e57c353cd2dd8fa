# Near-online tube queries on Cityscapes-VPS: the Mask2Former R50 recipe
# (configs/mask2former/mask2former_r50_90k_cityscapes-panoptic.py) with each query
# attending to a clip of 3 frames and predicting a tube, clips linked by query matching;
# trained on clips (2 clips of 3 frames per GPU, the image recipe's iterations).
# --cfg-options model.clip_length=T test_dataloader.batch_sampler.clip_length=T
# runs the same weights with other clip lengths (T = 1: online).
#   python tools/train.py configs/video/mask2former_r50_tube-clip3_cityscapes-vps.py
_base_ = '../mask2former/mask2former_r50_90k_cityscapes-panoptic.py'
from mmpanoptic.config_builders import video_clip_data  # noqa: E402

clip_length = 3
model = dict(
    _delete_=True,
    type='TubeVideoSegmentor',
    detector={{_base_.model}},
    clip_length=clip_length,
    tracker=dict(type='QueryPropagationTracker', refresh_interval=None, sim_thr=0.5,
                 max_age=5))
(train_pipeline, test_pipeline, train_dataloader, val_dataloader, test_dataloader,
 val_evaluator, test_evaluator) = video_clip_data('cityscapes_vps', clip_length=clip_length,
                                                  clips_per_batch=2)
val_dataloader['batch_sampler'] = dict(type='VideoBatchSampler', clip_length=clip_length)
test_dataloader = val_dataloader
