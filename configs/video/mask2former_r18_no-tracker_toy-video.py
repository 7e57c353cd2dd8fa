# The tracker-less baseline: the same model, a new id for every segment of
# every frame.  Test a checkpoint of the tracker config with it to see what
# tracking adds:
#   python tools/test.py configs/video/mask2former_r18_no-tracker_toy-video.py CHECKPOINT
_base_ = './mask2former_r18_online-tracker_toy-video.py'
model = dict(tracker=dict(_delete_=True, type='PerFrameIds'))
