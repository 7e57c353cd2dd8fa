# Mask2Former R50 on COCO panoptic (8 GPUs x 2 images, LSJ 1024, 50 epochs).
# Paper: 51.9 PQ.
#   python tools/train.py configs/mask2former/mask2former_r50_lsj-50e_coco-panoptic.py
_base_ = [
    '../_base_/models/mask2former_r50.py',
    '../_base_/datasets/coco_panoptic_lsj.py',
    '../_base_/schedules/mask2former_50e.py',
    '../_base_/default_runtime.py',
]
image_size = (1024, 1024)
model = dict(data_preprocessor=dict(batch_augments=[
    dict(type='mmdet.BatchFixedSizePad', size=image_size, img_pad_value=0, pad_mask=True,
         mask_pad_value=0, pad_seg=True, seg_pad_value=255)
]))

# Iteration-based: checkpoints every 5000 iterations, logs by iteration.
default_hooks = dict(checkpoint=dict(type='CheckpointHook', by_epoch=False, save_last=True,
                                     max_keep_ckpts=3, interval=5000))
log_processor = dict(by_epoch=False)
