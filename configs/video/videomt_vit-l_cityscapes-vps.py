# VidEoMT ViT-L (DINOv2 with registers) on Cityscapes-VPS (19 classes; 8 things).
# 2048x1024 frames; 512x1024 crops of images jittered 0.5..2.0, tested whole
# (configs/_base_/datasets/cityscapes_vps.py).
# VidEoMT publishes no recipe for this dataset: the optimisation is its VIPSeg
# one (configs/video/videomt_vit-l_vipseg.py) over 20000 iterations, trained
# on (reference, key) frame pairs.  Initialise from an EoMT checkpoint (load_from).
#   python tools/train.py configs/video/videomt_vit-l_cityscapes-vps.py \
#       --cfg-options load_from=EOMT.pth
_base_ = [
    '../_base_/models/eomt_vit-l_dinov2.py',
    '../_base_/datasets/cityscapes_vps.py',
    '../_base_/default_runtime.py',
]
from mmpanoptic.config_builders import eomt_schedule, video_evaluators  # noqa: E402

num_things_classes = 8
num_stuff_classes = 11
model = dict(
    _delete_=True,
    type='VideoPanopticSegmentor',
    detector=dict(type='VidEoMT', image_model={{_base_.model}},
                  num_things_classes=num_things_classes, num_stuff_classes=num_stuff_classes,
                  data_preprocessor=dict(pad_size_divisor=32)),
    train_propagation=True,
    tracker=dict(type='QueryPropagationTracker', refresh_interval=None))
train_dataloader = dict(batch_size=4, sampler=dict(_delete_=True, type='VideoPairSampler',
                                                   max_gap=2))  # 2 pairs per GPU
val_evaluator = video_evaluators()
test_evaluator = val_evaluator
max_iters = 20000
(optim_wrapper, param_scheduler, train_cfg, custom_hooks, default_hooks,
 log_processor) = eomt_schedule(max_iters, lr=1e-4, layer_decay=0.6, warmup_iters=(500, 1000),
                                annealing_starts=[max_iters // 6 * k for k in (1, 2, 3, 4)],
                                annealing_ends=[max_iters // 6 * k for k in (2, 3, 4, 5)])
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
