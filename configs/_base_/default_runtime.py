default_scope = 'mmpanoptic'

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # mmpanoptic's CheckpointHook: atomic files, random states for an exact resume
    checkpoint=dict(type='CheckpointHook', interval=1),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # NaN / inf loss: stop before the optimizer step ('skip': drop the step)
    nonfinite=dict(type='NonFiniteCheckHook', action='stop'))
# Overlay pictures (image | prediction | ground truth) in {work_dir}/vis/.
custom_hooks = [dict(type='PanopticVisualizationHook', max_images=8)]

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # A rank that dies or stalls makes the others fail after `timeout`
    # seconds instead of torch's default 30 minutes.
    dist_cfg=dict(backend='nccl', timeout=300))
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='mmdet.DetLocalVisualizer', vis_backends=vis_backends, name='visualizer')
log_processor = dict(type='LogProcessor', window_size=50, by_epoch=True)
log_level = 'INFO'
load_from = None
resume = False
