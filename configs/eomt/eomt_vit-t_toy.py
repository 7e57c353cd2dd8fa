# EoMT trained from scratch on the bundled toy data (128x128) on CPU: a small
# ViT (width 128, 8 blocks, 8-pixel patches: a 16x16 grid), whose last 3
# blocks take 20 queries; masks at stride 4 (one x2 upscale block, EoMT's rule
# for 8-pixel patches).  No pretrained weights, so no layer-wise decay; the
# mask annealing fades the masked attention out between 25 % and 80 % of
# training, block after block.
#   python tools/dataset_converters/make_toy_panoptic.py --out data/toy
#   python tools/train.py configs/eomt/eomt_vit-t_toy.py
_base_ = [
    '../_base_/models/eomt_vit-l_dinov2.py',
    '../_base_/datasets/toy_panoptic.py',
    '../_base_/default_runtime.py',
]
from mmpanoptic.config_builders import eomt_schedule  # noqa: E402

# The only place the class counts of the toy data are written.
num_things_classes = 4  # ellipse, box, triangle, ring
num_stuff_classes = 4  # sky, grass, water, sand
model = dict(
    num_things_classes=num_things_classes,
    num_stuff_classes=num_stuff_classes,
    data_preprocessor=dict(pad_size_divisor=8),
    backbone=dict(embed_dims=128, depth=8, num_heads=4, patch_size=8, img_size=128,
                  drop_path_rate=0.0, pretrained=None),
    panoptic_head=dict(num_queries=20, num_blocks=3, num_upscale=1),
    # 32x32 mask logits hold 1024 pixels: sample that many points.
    criterion=dict(matcher=dict(num_points=1024), num_points=1024))

max_iters = 2000
(optim_wrapper, param_scheduler, train_cfg, custom_hooks, default_hooks,
 log_processor) = eomt_schedule(max_iters, lr=4e-4, layer_decay=1.0, warmup_iters=(50, 50),
                                annealing_starts=[500, 800, 1100],
                                annealing_ends=[900, 1200, 1600])
# No pretrained ViT: the gradient clip of the fine-tuning recipe (0.01) is too tight.
optim_wrapper.update(clip_grad=dict(max_norm=1.0, norm_type=2))
default_hooks.update(logger=dict(type='LoggerHook', interval=25))
log_processor.update(window_size=25)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
randomness = dict(seed=0)
