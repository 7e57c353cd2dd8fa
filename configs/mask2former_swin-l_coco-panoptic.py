# The flagship: Mask2Former Swin-L (ImageNet-22k 384) on COCO panoptic,
# 200 queries, 16 GPUs x 1 image, LSJ 1024, 100 epochs.  Paper: 57.8 PQ.
#   python tools/train.py configs/mask2former_swin-l_coco-panoptic.py
# Data: docs/dataset_prepare.md.  Built from the R50 recipe and _base_ pieces.
_base_ = './mask2former/mask2former_r50_lsj-50e_coco-panoptic.py'
pretrained = 'https://github.com/SwinTransformer/storage/releases/download/v1.0.0/swin_large_patch4_window12_384_22k.pth'  # noqa
depths = [2, 2, 18, 2]
model = dict(
    backbone=dict(
        _delete_=True,
        type='mmdet.SwinTransformer',
        pretrain_img_size=384,
        embed_dims=192,
        depths=depths,
        num_heads=[6, 12, 24, 48],
        window_size=12,
        mlp_ratio=4,
        qkv_bias=True,
        drop_path_rate=0.3,
        out_indices=(0, 1, 2, 3),
        convert_weights=True,
        init_cfg=dict(type='Pretrained', checkpoint=pretrained)),
    panoptic_head=dict(num_queries=200, in_channels=[192, 384, 768, 1536]))

# Swin's norms and position tables: backbone learning rate, no weight decay.
optim_wrapper = dict(paramwise_cfg=dict(custom_keys={{_base_.swin_custom_keys.deep}}))

train_dataloader = dict(batch_size=1, num_workers=1)  # 16 GPUs x 1 image
max_iters = 737500
param_scheduler = dict(end=max_iters, milestones=[655556, 710184])
# Evaluate every 5000 iterations and once more at the end (as the base schedule).
train_cfg = dict(max_iters=max_iters,
                 dynamic_intervals=[(max_iters // 5000 * 5000 + 1, max_iters)])
