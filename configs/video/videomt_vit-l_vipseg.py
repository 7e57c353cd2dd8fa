# VidEoMT ViT-L (DINOv2 with registers) on VIPSeg (124 classes: 58 things,
# 66 stuff): EoMT's model whose query tokens for frame t are its learned
# queries plus a linear map of frame t-1's output queries; the query index is
# the track.  The official recipe (tue-mps/videomt configs/VIPSeg/videomt/
# dinov2/vit-large/videomt_Online_ViTL.yaml): 200 queries in the last 4 blocks,
# 40k iterations of 8, AdamW 1e-4, weight decay 0.05, layer-wise decay 0.6,
# warm-ups of 500 / 1000 iterations, poly decay; shorter side 480..800 (<= 1333)
# with flips, test at 720.  Differences kept: training on (reference, key)
# frame pairs (VideoPairSampler, the key 1..2 frames later) where VidEoMT
# samples 5-frame clips, and the ViT's 16-pixel patches of our EoMT configs.
# Initialise from a COCO EoMT checkpoint (load_from), as VidEoMT does.
#   python tools/train.py configs/video/videomt_vit-l_vipseg.py --cfg-options load_from=EOMT.pth
_base_ = [
    '../_base_/models/eomt_vit-l_dinov2.py',
    '../_base_/datasets/vipseg.py',
    '../_base_/default_runtime.py',
]
from mmpanoptic.config_builders import eomt_schedule, train_pipeline, video_evaluators  # noqa: E402

num_things_classes = 58
num_stuff_classes = 66
model = dict(
    _delete_=True,
    type='VideoPanopticSegmentor',
    detector=dict(type='VidEoMT', image_model={{_base_.model}},
                  num_things_classes=num_things_classes, num_stuff_classes=num_stuff_classes,
                  data_preprocessor=dict(pad_size_divisor=32),
                  panoptic_head=dict(num_queries=200)),
    train_propagation=True,
    tracker=dict(type='QueryPropagationTracker', refresh_interval=None))
train_pipeline = train_pipeline(
    dict(type='mmdet.RandomChoiceResize', scales=[(1333, s) for s in range(480, 801, 32)],
         keep_ratio=True))
train_dataloader = dict(batch_size=4, sampler=dict(_delete_=True, type='VideoPairSampler',
                                                   max_gap=2),
                        dataset=dict(pipeline=train_pipeline))  # 2 GPUs x 2 pairs
val_evaluator = video_evaluators()
test_evaluator = val_evaluator
max_iters = 40000
(optim_wrapper, param_scheduler, train_cfg, custom_hooks, default_hooks,
 log_processor) = eomt_schedule(max_iters, lr=1e-4, layer_decay=0.6, warmup_iters=(500, 1000),
                                annealing_starts=[6667, 13333, 20000, 26667],
                                annealing_ends=[13333, 20000, 26667, 33333])
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
