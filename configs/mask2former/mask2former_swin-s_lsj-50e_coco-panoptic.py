# Mask2Former Swin-S (ImageNet-1k 224) on COCO panoptic.  Paper: 54.6 PQ.
_base_ = './mask2former_r50_lsj-50e_coco-panoptic.py'
pretrained = 'https://github.com/SwinTransformer/storage/releases/download/v1.0.0/swin_small_patch4_window7_224.pth'  # noqa
depths = [2, 2, 18, 2]
model = dict(
    backbone=dict(
        _delete_=True,
        type='mmdet.SwinTransformer',
        embed_dims=96,
        depths=depths,
        num_heads=[3, 6, 12, 24],
        window_size=7,
        mlp_ratio=4,
        qkv_bias=True,
        drop_path_rate=0.3,
        out_indices=(0, 1, 2, 3),
        convert_weights=True,
        init_cfg=dict(type='Pretrained', checkpoint=pretrained)),
    panoptic_head=dict(in_channels=[96, 192, 384, 768]))

# Swin's norms and position tables: backbone learning rate, no weight decay.
optim_wrapper = dict(paramwise_cfg=dict(custom_keys={{_base_.swin_custom_keys.deep}}))
