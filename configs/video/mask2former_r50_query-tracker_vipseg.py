# Mask2Former R50 (configs/mask2former/mask2former_r50_40k_vipseg-panoptic.py)
# + the query tracker on VIPSeg: every frame is segmented afresh and its
# segments are associated to the tracks by query embeddings (MinVIS-style,
# refresh_interval=1), which suits VIPSeg's densely sampled frames.  Test with
# the image model's checkpoint:
#   python tools/test.py configs/video/mask2former_r50_query-tracker_vipseg.py CKPT
# Reports VPQ over windows of 1/2/3/4 consecutive annotated frames
# (VideoPanopticMetric's window_frames; set them to the protocol you compare
# with), STQ, and each frame's PQ.
_base_ = '../mask2former/mask2former_r50_40k_vipseg-panoptic.py'
from mmpanoptic.config_builders import video_evaluators  # noqa: E402

model = dict(
    _delete_=True,
    type='VideoPanopticSegmentor',
    detector={{_base_.model}},
    tracker=dict(type='QueryPropagationTracker', refresh_interval=1, sim_thr=0.5,
                 max_age=5))
val_evaluator = video_evaluators()
test_evaluator = val_evaluator
