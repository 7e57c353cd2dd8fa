# DVIS++ offline on Cityscapes-VPS: the temporal refiner (6 blocks) on the frozen online
# model (dvis_mask2former_r50_cityscapes-vps.py; load its checkpoint), trained on clips
# of 11 consecutive frames, 20k iterations (DVIS++'s R50 VIPSeg offline recipe); tested
# on whole videos, one per batch. The same checkpoint runs online with --cfg-options
# model.mode=online test_dataloader.batch_sampler=None.
#   python tools/train.py configs/video/dvis-offline_mask2former_r50_cityscapes-vps.py \
#       --cfg-options load_from=DVIS_ONLINE.pth
_base_ = '../mask2former/mask2former_r50_90k_cityscapes-panoptic.py'
from mmpanoptic.config_builders import dvis_recipe  # noqa: E402

(model, train_pipeline, test_pipeline, train_dataloader, val_dataloader, test_dataloader,
 val_evaluator, test_evaluator, train_cfg, optim_wrapper,
 param_scheduler) = dvis_recipe('cityscapes_vps', {{_base_.model}}, offline=True)
