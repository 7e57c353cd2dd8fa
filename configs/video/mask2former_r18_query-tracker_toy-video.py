# The toy Mask2Former with the query tracker instead of the mask-IoU tracker.
# Test a checkpoint of the online-tracker config with it (same image model):
#   python tools/test.py configs/video/mask2former_r18_query-tracker_toy-video.py CHECKPOINT
# refresh_interval=1: every frame is detected afresh and associated to the
# tracks by query embeddings.  Propagating queries between frames
# (refresh_interval > 1) needs a model trained with propagated queries; this
# toy model is trained on single frames, and propagation lowers its per-frame
# PQ (75.4 -> 59.2 at refresh_interval=3), see docs/video.md.
_base_ = '../mask2former/mask2former_r18_toy.py'
from mmpanoptic.config_builders import toy_video_data  # noqa: E402

model = dict(
    _delete_=True,
    type='VideoPanopticSegmentor',
    detector={{_base_.model}},
    tracker=dict(type='QueryPropagationTracker', refresh_interval=1, sim_thr=0.5,
                 max_age=5))

# The toy data settings of the base, on the toy video files (make_toy_video.py);
# evaluation gets whole videos, frames in order, in one process.
(dataset_type, test_pipeline, train_dataloader, val_dataloader, test_dataloader,
 val_evaluator, test_evaluator) = toy_video_data({{_base_.train_pipeline}})
