# FC-CLIP (Yu et al., NeurIPS 2023) on CLIP RN50, trained on COCO panoptic
# (Mask2Former's LSJ recipe: 8 GPUs x 2 images, 1024 crops, 50 epochs).
# Mask2Former whose backbone is CLIP's frozen image tower and whose class layer
# is a text classifier on the same CLIP's text tower; at test time FC-CLIP's
# geometric ensemble with mask-pooled CLIP features (alpha 0.4 for seen
# classes, beta 0.8 for unseen).  The published models use ConvNeXt-L CLIP;
# this config uses the RN50 CLIP tower implemented here (CLIPResNet).
# Weights: OpenAI's RN50 CLIP (RN50.pt) or open_clip's RN50 'openai' weights,
# saved to clip_checkpoint below (nothing is downloaded at run time).
#   python tools/train.py configs/open_vocab/fcclip_clip-rn50_lsj-50e_coco-panoptic.py
# Zero-shot evaluation on other datasets: the *_zero-shot_*.py configs here.
_base_ = [
    '../_base_/models/mask2former_r50.py',
    '../_base_/datasets/coco_panoptic_lsj.py',
    '../_base_/schedules/mask2former_50e.py',
    '../_base_/default_runtime.py',
]
clip_checkpoint = 'checkpoints/clip_rn50_openai.pt'
image_size = (1024, 1024)
model = dict(
    type='FCCLIP',
    alpha=0.4,
    beta=0.8,
    clip_logit_scale=100.0,
    # The official inference: in-vocabulary softmax without the void logit,
    # masked attention pooling of CLIP res5 (its ResNet path), no CLIP weight
    # for masks empty at res5's resolution (its ENSEMBLE_ON_VALID_MASK, which
    # the official code recommends for ResNet CLIPs).
    void='separate',
    clip_pooling='attention',
    ensemble_on_valid_mask=True,
    # CLIP's own normalisation (RGB): its image tower was trained with it.
    data_preprocessor=dict(
        mean=[122.7709383, 116.7460125, 104.09373615],
        std=[68.5005327, 66.6321579, 70.32316305],
        batch_augments=[
            dict(type='mmdet.BatchFixedSizePad', size=image_size, img_pad_value=0,
                 pad_mask=True, mask_pad_value=0, pad_seg=True, seg_pad_value=255)]),
    backbone=dict(_delete_=True, type='CLIPResNet', model_name='RN50',
                  checkpoint=clip_checkpoint, frozen=True),
    panoptic_head=dict(
        in_channels=[256, 512, 1024, 2048],
        classifier=dict(
            type='TextEmbeddingClassifier',
            # OpenAI's CLIP models use QuickGELU.
            text_encoder=dict(type='CLIPTextEncoder', model_name='RN50',
                              checkpoint=clip_checkpoint, act='quick_gelu'),
            vocabulary='coco_panoptic',  # 80 things + 53 stuff, COCO's label order
            templates='vild',
            synonym_reduce='max')))  # a class scores as its best synonym (official)

# Each evaluation uses the evaluated dataset's class names (with the bundled
# synonym lists where given).
custom_hooks = [
    dict(type='TextVocabularyHook'),
    dict(type='PanopticVisualizationHook', max_images=8),
]
default_hooks = dict(checkpoint=dict(type='CheckpointHook', by_epoch=False, save_last=True,
                                     max_keep_ckpts=3, interval=5000))
log_processor = dict(by_epoch=False)
