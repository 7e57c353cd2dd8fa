# FC-CLIP (Yu et al., NeurIPS 2023) as published: CLIP ConvNeXt-L
# (open_clip's convnext_large_d_320, weights laion2b_s29b_b131k_ft_soup),
# trained on COCO panoptic with Mask2Former's LSJ recipe (16 images of
# 1024 px per step, 50 epochs); zero-shot ADE20K / Cityscapes / Mapillary
# Vistas in the *_zero-shot_*.py configs beside this one.
# Weights (nothing is downloaded at run time): open_clip's
# open_clip_pytorch_model.bin of convnext_large_d_320 / laion2b_s29b_b131k_ft_soup
# (the hub folder laion/CLIP-convnext_large_d_320.laion2B-s29B-b131K-ft-soup),
# saved as clip_checkpoint below; both towers load from that one file.
#   python tools/train.py configs/open_vocab/fcclip_clip-convnext-l_lsj-50e_coco-panoptic.py
# Settings equal to the official configs/coco/panoptic-segmentation/fcclip/
# fcclip_convnext_large_eval_ade20k.yaml (its training config too), except:
# - schedule: mmdet's Mask2Former 50-epoch COCO schedule (iterations, LR
#   steps, AdamW 1e-4, weight decay 0.05, gradient clipping 0.01) as the RN50
#   config; the official one is detectron2's with the same values;
# - the frozen CLIP tower has no backbone LR multiplier (nothing to train).
_base_ = [
    '../_base_/models/mask2former_r50.py',
    '../_base_/datasets/coco_panoptic_lsj.py',
    '../_base_/schedules/mask2former_50e.py',
    '../_base_/default_runtime.py',
]
clip_checkpoint = 'checkpoints/clip_convnext_large_d_320_laion2b_s29b_b131k_ft_soup.bin'
image_size = (1024, 1024)
model = dict(
    type='FCCLIP',
    alpha=0.4,  # GEOMETRIC_ENSEMBLE_ALPHA
    beta=0.8,  # GEOMETRIC_ENSEMBLE_BETA
    clip_logit_scale=100.0,
    # The official inference: in-vocabulary softmax without the void logit;
    # the ConvNeXt path: each binary mask averages the last stage (no
    # attention pool in a ConvNeXt), then the tower's head norm and MLP
    # projection; ENSEMBLE_ON_VALID_MASK off (its default).
    void='separate',
    clip_pooling='mean',
    ensemble_on_valid_mask=False,
    # CLIP's own normalisation (RGB), FC-CLIP's PIXEL_MEAN / PIXEL_STD.
    data_preprocessor=dict(
        mean=[122.7709383, 116.7460125, 104.09373615],
        std=[68.5005327, 66.6321579, 70.32316305],
        batch_augments=[
            dict(type='mmdet.BatchFixedSizePad', size=image_size, img_pad_value=0,
                 pad_mask=True, mask_pad_value=0, pad_seg=True, seg_pad_value=255)]),
    backbone=dict(_delete_=True, type='CLIPConvNeXt', model_name='convnext_large_d_320',
                  checkpoint=clip_checkpoint, frozen=True),
    panoptic_head=dict(
        in_channels=[192, 384, 768, 1536],
        num_queries=250,  # MASK_FORMER.NUM_OBJECT_QUERIES
        classifier=dict(
            type='TextEmbeddingClassifier',
            # open_clip-trained towers use GELU (OpenAI's use QuickGELU)
            text_encoder=dict(type='CLIPTextEncoder', model_name='convnext_large_d_320',
                              checkpoint=clip_checkpoint, act='gelu'),
            vocabulary='coco_panoptic',  # 80 things + 53 stuff, COCO's label order
            templates='vild',
            synonym_reduce='max')),  # a class scores as its best synonym (official)
    fusion=dict(object_mask_thr=0.0))  # MASK_FORMER.TEST.OBJECT_MASK_THRESHOLD

# Each evaluation uses the evaluated dataset's class names (with the bundled
# synonym lists where given).
custom_hooks = [
    dict(type='TextVocabularyHook'),
    dict(type='PanopticVisualizationHook', max_images=8),
]
default_hooks = dict(checkpoint=dict(type='CheckpointHook', by_epoch=False, save_last=True,
                                     max_keep_ckpts=3, interval=5000))
log_processor = dict(by_epoch=False)
