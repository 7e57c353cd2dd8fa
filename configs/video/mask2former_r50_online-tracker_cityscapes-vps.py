# Mask2Former R50 (the Cityscapes panoptic recipe) + the online tracker with
# colour-histogram appearance, on Cityscapes-VPS.  Frames are the annotated
# ones (every 5th), so tracks bridge 5-frame gaps: IoU after box-motion
# warping plus appearance.  VPQ^0/5/10/15 = windows of 1/2/3/4 annotated frames.
_base_ = '../mask2former/mask2former_r50_90k_cityscapes-panoptic.py'
from mmpanoptic.config_builders import dataloaders, split, test_pipeline, video_evaluators  # noqa: E402

model = dict(
    _delete_=True,
    type='VideoPanopticSegmentor',
    detector={{_base_.model}},
    tracker=dict(type='OnlineMaskTracker', iou_thr=0.2, max_age=2, warp=True,
                 appearance_weight=0.5),
    appearance='color')

# Cityscapes-VPS frames (configs/_base_/datasets/cityscapes_vps.py) instead of the
# image model's Cityscapes panoptic data; evaluation gets whole videos, frames in
# order, in one process.
dataset_type = 'VideoPanopticDataset'
data_root = 'data/cityscapes_vps/'
test_pipeline = test_pipeline((2048, 1024), video=True)
train_dataloader, val_dataloader, test_dataloader = dataloaders(
    dataset_type, data_root,
    train=split('train/panoptic_train_video.json', 'train/img/', 'train/panoptic_video/'),
    val=split('val/panoptic_val_video.json', 'val/img/', 'val/panoptic_video/'),
    train_pipeline={{_base_.train_pipeline}}, test_pipeline=test_pipeline, video=True,
    replace=True)
val_evaluator = video_evaluators()
test_evaluator = val_evaluator
