# MaskFormer Swin-L (ImageNet-22k 384) on COCO panoptic.  Paper: 52.7 PQ.
_base_ = './maskformer_r50_ms-75e_coco-panoptic.py'
pretrained = 'https://github.com/SwinTransformer/storage/releases/download/v1.0.0/swin_large_patch4_window12_384_22k.pth'  # noqa
model = dict(
    backbone=dict(
        _delete_=True,
        type='mmdet.SwinTransformer',
        pretrain_img_size=384,
        embed_dims=192,
        depths=[2, 2, 18, 2],
        num_heads=[6, 12, 24, 48],
        window_size=12,
        mlp_ratio=4,
        qkv_bias=True,
        drop_path_rate=0.3,
        out_indices=(0, 1, 2, 3),
        convert_weights=True,
        init_cfg=dict(type='Pretrained', checkpoint=pretrained)),
    # Swin's last level is 1536 wide: MaskFormer projects it for the decoder.
    panoptic_head=dict(in_channels=[192, 384, 768, 1536],
                       pixel_decoder=dict(type='mmdet.PixelDecoder', _delete_=True,
                                          norm_cfg=dict(type='GN', num_groups=32),
                                          act_cfg=dict(type='ReLU')),
                       enforce_decoder_input_project=True))

# 64 GPUs x 1 image, 300 epochs, AdamW 6e-5 / 0.01 with a 1500-step warm-up.
max_epochs = 300
# No weight decay on any norm, position table or query embedding.
no_decay = dict(lr_mult=1.0, decay_mult=0.0)
optim_wrapper = dict(
    optimizer=dict(lr=6e-5, weight_decay=0.01),
    paramwise_cfg=dict(custom_keys={'norm': no_decay, 'absolute_pos_embed': no_decay,
                                    'relative_position_bias_table': no_decay}))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0, end=1500),
    dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True, milestones=[250],
         gamma=0.1)
]
train_cfg = dict(max_epochs=max_epochs)
train_dataloader = dict(batch_size=1)
auto_scale_lr = dict(base_batch_size=64)
