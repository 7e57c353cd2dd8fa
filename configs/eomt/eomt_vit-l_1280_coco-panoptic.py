# EoMT ViT-L/16 (DINOv2) on COCO panoptic at 1280x1280 (EoMT's
# eomt_large_1280.yaml; 58.3 PQ): the 640 recipe at twice the input size.
_base_ = './eomt_vit-l_640_coco-panoptic.py'
from mmpanoptic.config_builders import (  # noqa: E402
    coco_panoptic_data,
    eomt_test_pipeline,
    eomt_train_pipeline,
    eomt_tta_pipeline,
)

img_size = (1280, 1280)
model = dict(backbone=dict(img_size=img_size))
train_pipeline = eomt_train_pipeline(img_size)
test_pipeline = eomt_test_pipeline(img_size)
train_dataloader, val_dataloader, test_dataloader, val_evaluator = coco_panoptic_data(
    'data/coco/', train_pipeline, test_pipeline)
train_dataloader.update(batch_size=4, num_workers=4)  # 4 GPUs x 4 = EoMT's 16
test_evaluator = val_evaluator
tta_pipeline = eomt_tta_pipeline(img_size)  # --tta: the view and its mirror
