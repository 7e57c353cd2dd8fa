# Mask2Former R50 (configs/mask2former/mask2former_r50_30k_kitti-step-panoptic.py)
# + the online mask tracker on KITTI-STEP: frames are consecutive (10 Hz), so
# person / car tracks follow mask IoU after box-motion warping, with colour
# appearance to re-find occluded objects.  Scored with STQ (STEP's metric),
# VPQ over windows of 1..4 frames, and each frame's PQ:
#   python tools/test.py configs/video/mask2former_r50_online-tracker_kitti-step.py CKPT
_base_ = '../mask2former/mask2former_r50_30k_kitti-step-panoptic.py'
from mmpanoptic.config_builders import video_evaluators  # noqa: E402

model = dict(
    _delete_=True,
    type='VideoPanopticSegmentor',
    detector={{_base_.model}},
    tracker=dict(type='OnlineMaskTracker', iou_thr=0.3, max_age=5, warp=True,
                 appearance_weight=0.5),
    appearance='color')
val_evaluator = video_evaluators()
test_evaluator = val_evaluator
