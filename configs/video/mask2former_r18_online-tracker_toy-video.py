# A video model = the toy Mask2Former + the online tracker, on the toy videos.
#   python tools/dataset_converters/make_toy_video.py --out data/toy_video
#   python tools/train.py configs/video/mask2former_r18_online-tracker_toy-video.py
# Training trains the image model on the frames; testing tracks ids over time
# and reports VPQ (windows of 1..4 frames) and STQ next to per-frame PQ.
# Toy videos: 128x128 frames, 10 per video, the toy classes; things move,
# occlude each other, leave and re-enter the frame; segment ids are track ids.
_base_ = '../mask2former/mask2former_r18_toy.py'
from mmpanoptic.config_builders import toy_video_data  # noqa: E402

model = dict(
    _delete_=True,
    type='VideoPanopticSegmentor',
    detector={{_base_.model}},
    tracker=dict(type='OnlineMaskTracker', iou_thr=0.2, max_age=5, warp=True))

# The toy data settings of the base, on the toy video files (make_toy_video.py);
# evaluation gets whole videos, frames in order, in one process.
(dataset_type, test_pipeline, train_dataloader, val_dataloader, test_dataloader,
 val_evaluator, test_evaluator) = toy_video_data({{_base_.train_pipeline}})
