# DVIS++-style decoupled tracking on the toy videos, stage 2 (offline): the
# temporal refiner (3 blocks of temporal self-attention, a short temporal
# convolution, object self-attention and cross-attention to the frame's
# queries) over the frozen stage-1 tracker's queries of a whole video; a
# track gets one class for the whole video.  Trained on clips of 5 frames;
# tested on whole videos, one video per batch.
#   python tools/train.py configs/video/dvis-offline_mask2former_r18_toy-video.py \
#       --cfg-options load_from=work_dirs/dvis_mask2former_r18_toy-video/iter_600.pth
# The same checkpoint runs online (the tracker alone) with
#   --cfg-options model.mode=online
_base_ = './dvis_mask2former_r18_toy-video.py'

model = dict(
    refiner=dict(type='TemporalRefiner', num_heads=4, num_layers=3,
                 feedforward_channels=256, kernel_size=3),
    mode='offline',
    train_part='refiner')

# Each test batch is one whole video.
val_dataloader = dict(batch_sampler=dict(type='VideoBatchSampler'))
test_dataloader = val_dataloader

load_from = 'work_dirs/dvis_mask2former_r18_toy-video/iter_600.pth'
