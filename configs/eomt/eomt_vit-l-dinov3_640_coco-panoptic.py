# EoMT ViT-L/16 on DINOv3 (RoPE positions, no key bias) on COCO panoptic at
# 640x640 (EoMT's configs/dinov3/coco/panoptic/eomt_large_640.yaml; 56.8 PQ).
# Differences from the DINOv2 recipe, as EoMT's: learning rate 2e-4, the 4
# query blocks at the full rate (llrd_l2_enabled: False), warm-ups of 2000 /
# 3000 iterations, the first block's mask annealed over the first 3000.
# Not reproduced: EoMT's delta_weights mode (its heads start from a previous
# EoMT checkpoint); here they start from scratch, the ViT from DINOv3.
_base_ = './eomt_vit-l_640_coco-panoptic.py'
from mmpanoptic.config_builders import eomt_schedule  # noqa: E402

model = dict(backbone=dict(
    rope=True, rope_theta=100.0, rope_train_rescale=2.0, key_bias=False, eps=1e-5,
    mlp_hidden=4096, pretrained='data/pretrained/dinov3-vitl16-pretrain-lvd1689m'))
max_iters = 12 * 7393
(optim_wrapper, param_scheduler, train_cfg, custom_hooks, default_hooks,
 log_processor) = eomt_schedule(max_iters, lr=2e-4, layer_decay=0.8, full_rate_last=4,
                                warmup_iters=(2000, 3000),
                                annealing_starts=[0, 29564, 44346, 59128],
                                annealing_ends=[3000, 44346, 59128, 73910])
