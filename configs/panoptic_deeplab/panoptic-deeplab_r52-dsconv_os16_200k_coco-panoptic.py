# Panoptic-DeepLab in the layout of detectron2's COCO model
# (panoptic_deeplab_R_52_os16_mg124_poly_200k_bs64_crop_640_640_coco_dsconv):
# ResNet-52 (DeepLab stem of three 3x3 convs, 128 channels), res5 dilated with
# multi-grid (1, 2, 4) x 2, depthwise separable ASPP and decoder convs, ASPP
# image pooling without norm, ASPP dropout 0.1, detectron2's two 3x3 convs in
# the center head.  Its released weights load after
#   python tools/model_converters/panoptic_deeplab_d2_to_mmpanoptic.py \
#       model_final_5e6da2.pkl panoptic-deeplab_r52-dsconv_coco.pth
#   python tools/test.py \
#       configs/panoptic_deeplab/panoptic-deeplab_r52-dsconv_os16_200k_coco-panoptic.py \
#       panoptic-deeplab_r52-dsconv_coco.pth
# Kept from our COCO recipe: the test resize (640 on the long side; detectron2
# resizes the short side to 640 up to 640 on the long side, the same for COCO's
# images) and the global image pooling (detectron2 pools 40x40 windows at
# test time, the 640x640 training crop at stride 16: the same on 640x640 input).
_base_ = './panoptic-deeplab_r50_os16_200k_coco-panoptic.py'
norm_cfg = dict(type='BN', requires_grad=True)
d2_decoder = dict(aspp_separable=True, image_pool_norm=False, aspp_dropout=0.1,
                  channel_order='detectron2', in_channels=[256, 512, 1024, 2048])
model = dict(
    backbone=dict(
        _delete_=True,
        type='mmseg.ResNetV1c',
        depth=50,
        stem_channels=128,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        strides=(1, 2, 2, 1),
        dilations=(1, 1, 1, 2),
        multi_grid=(2, 4, 8),  # mmseg's multi-grid rates are the dilations: 2 x (1, 2, 4)
        contract_dilation=False,
        frozen_stages=-1,
        norm_cfg=norm_cfg,
        norm_eval=False,
        style='pytorch',
        init_cfg=None),
    decode_head=dict(
        semantic_decoder=d2_decoder,
        instance_decoder=d2_decoder,
        center_head='conv3x3'))
