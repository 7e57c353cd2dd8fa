# Mask2Former R101 on COCO panoptic.  Paper: 52.6 PQ.
_base_ = './mask2former_r50_lsj-50e_coco-panoptic.py'
model = dict(backbone=dict(depth=101, init_cfg=dict(type='Pretrained',
                                                    checkpoint='torchvision://resnet101')))
