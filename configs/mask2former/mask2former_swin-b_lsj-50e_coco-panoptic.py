# Mask2Former Swin-B (ImageNet-1k 384, window 12) on COCO panoptic.  Paper: 55.1 PQ.
_base_ = './mask2former_r50_lsj-50e_coco-panoptic.py'
pretrained = 'https://github.com/SwinTransformer/storage/releases/download/v1.0.0/swin_base_patch4_window12_384.pth'  # noqa
depths = [2, 2, 18, 2]
model = dict(
    backbone=dict(
        _delete_=True,
        type='mmdet.SwinTransformer',
        pretrain_img_size=384,
        embed_dims=128,
        depths=depths,
        num_heads=[4, 8, 16, 32],
        window_size=12,
        mlp_ratio=4,
        qkv_bias=True,
        drop_path_rate=0.3,
        out_indices=(0, 1, 2, 3),
        convert_weights=True,
        init_cfg=dict(type='Pretrained', checkpoint=pretrained)),
    panoptic_head=dict(in_channels=[128, 256, 512, 1024]))

# Swin's norms and position tables: backbone learning rate, no weight decay.
optim_wrapper = dict(paramwise_cfg=dict(custom_keys={{_base_.swin_custom_keys.deep}}))
