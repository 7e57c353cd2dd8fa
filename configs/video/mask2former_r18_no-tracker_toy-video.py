# The tracker-less baseline: the same model, a new id for every segment of
# every frame.  Test a checkpoint of the online-tracker config with it to see
# what tracking adds:
#   python tools/test.py configs/video/mask2former_r18_no-tracker_toy-video.py CHECKPOINT
_base_ = '../mask2former/mask2former_r18_toy.py'
from mmpanoptic.config_builders import toy_video_data  # noqa: E402

model = dict(
    _delete_=True,
    type='VideoPanopticSegmentor',
    detector={{_base_.model}},
    tracker=dict(type='PerFrameIds'))

# The toy data settings of the base, on the toy video files (make_toy_video.py);
# evaluation gets whole videos, frames in order, in one process.
(dataset_type, test_pipeline, train_dataloader, val_dataloader, test_dataloader,
 val_evaluator, test_evaluator) = toy_video_data({{_base_.train_pipeline}})
