# The toy Panoptic-DeepLab + the online mask tracker on the toy videos: the
# image-model-plus-tracker baseline for ViP-DeepLab at the same backbone.
# Test a ViP-DeepLab checkpoint with it (its detector weights load; the
# next-frame branch is not used):
#   python tools/test.py configs/video/panoptic-deeplab_r18_online-tracker_toy-video.py \
#       work_dirs/vip-deeplab_r18_toy-video/iter_2000.pth
_base_ = '../panoptic_deeplab/panoptic-deeplab_r18_toy.py'
from mmpanoptic.config_builders import toy_video_data  # noqa: E402

model = dict(
    _delete_=True,
    type='VideoPanopticSegmentor',
    detector={{_base_.model}},
    tracker=dict(type='OnlineMaskTracker', iou_thr=0.2, max_age=5, warp=True))

(dataset_type, test_pipeline, train_dataloader, val_dataloader, test_dataloader,
 val_evaluator, test_evaluator) = toy_video_data({{_base_.train_pipeline}})
