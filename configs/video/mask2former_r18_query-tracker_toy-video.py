# The toy Mask2Former with the query tracker instead of the mask-IoU tracker.
# Test a checkpoint of the online-tracker config with it (same image model):
#   python tools/test.py configs/video/mask2former_r18_query-tracker_toy-video.py CHECKPOINT
# refresh_interval=1: every frame is detected afresh and associated to the
# tracks by query embeddings.  Propagating queries between frames
# (refresh_interval > 1) needs a model trained with propagated queries; this
# toy model is trained on single frames, and propagation lowers its per-frame
# PQ (75.4 -> 59.2 at refresh_interval=3), see docs/video.md.
_base_ = './mask2former_r18_online-tracker_toy-video.py'
model = dict(tracker=dict(_delete_=True, type='QueryPropagationTracker', refresh_interval=1,
                          sim_thr=0.5, max_age=5))
