"""The parts of the configs that are the same but for a few numbers, written once.

Every dataset config (``configs/_base_/datasets/*.py``) and the video
configs build their pipelines, data loaders and evaluators with these
functions; what differs between datasets (paths, scales, crop, sampler)
are the arguments.  The iteration-based recipes take their schedule from
:func:`poly_iter_schedule`.  No import beyond the standard library: loading
a config stays cheap.  They return plain dicts and lists, so the built config
prints, dumps and merges like a hand-written one.

A config file calls them after its ``_base_`` line (mmengine reads a file
with imports as a classic config only when ``_base_`` comes first)::

    _base_ = []
    from mmpanoptic.config_builders import test_pipeline  # noqa: E402

>>> [step['type'] for step in test_pipeline((1333, 800))]
['LoadImageFromFile', 'mmdet.Resize', 'LoadPanopticAnnotations', 'PackPanopticInputs']
"""
from typing import Dict, List, Optional, Sequence, Tuple

TEST_META_KEYS = ('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')
VIDEO_META_KEYS = TEST_META_KEYS + ('video_id', 'frame_id')
TTA_META_KEYS = TEST_META_KEYS + ('flip', 'flip_direction')
# The reference view (the test scale) first, then x0.75 and x1.25.
TTA_RATIOS = (1.0, 0.75, 1.25)


def _load_image(backend_args, to_float32: bool = False) -> dict:
    step = dict(type='LoadImageFromFile')
    if to_float32:
        step['to_float32'] = True
    step['backend_args'] = backend_args
    return step


def _eval_annotations(backend_args) -> dict:
    """Loaded after the resize: the ground truth the metrics read stays at
    the original size."""
    return dict(type='LoadPanopticAnnotations', with_bbox=False, with_mask=False,
                with_seg=False, with_panoptic=True, backend_args=backend_args)


def train_pipeline(resize: dict, *, crop_size: Optional[Tuple[int, int]] = None,
                   flip_first: bool = False, to_float32: bool = False,
                   backend_args: Optional[dict] = None) -> List[dict]:
    """Load image and annotations, ``resize`` (a resize transform config),
    an optional absolute ``crop_size`` crop, a horizontal flip (before the
    resize with ``flip_first``, as mmdet's LSJ recipe), pack."""
    augment = [resize]
    if crop_size is not None:
        augment.append(dict(type='mmdet.RandomCrop', crop_size=crop_size,
                            crop_type='absolute', recompute_bbox=True,
                            allow_negative_crop=True))
    flip = dict(type='mmdet.RandomFlip', prob=0.5)
    augment = [flip] + augment if flip_first else augment + [flip]
    return [_load_image(backend_args, to_float32),
            dict(type='LoadPanopticAnnotations', backend_args=backend_args), *augment,
            dict(type='PackPanopticInputs')]


def detr_train_pipeline(*, shorter: Sequence[int] = tuple(range(480, 801, 32)),
                        longer: int = 1333, crop_resize: Sequence[int] = (400, 500, 600),
                        crop_size: Tuple[int, int] = (384, 600),
                        backend_args: Optional[dict] = None) -> List[dict]:
    """DETR's augmentation (also MaskFormer's): a horizontal flip, then either
    a resize of the shorter side to one of ``shorter`` (the longer at most
    ``longer``) or a resize to one of ``crop_resize``, a random crop of
    ``crop_size`` (an absolute range) and the multi-scale resize."""
    multi_scale = [(int(s), longer) for s in shorter]
    return [
        _load_image(backend_args),
        dict(type='LoadPanopticAnnotations', backend_args=backend_args),
        dict(type='mmdet.RandomFlip', prob=0.5),
        dict(type='mmdet.RandomChoice', transforms=[
            [dict(type='mmdet.RandomChoiceResize', scales=multi_scale, keep_ratio=True)],
            [dict(type='mmdet.RandomChoiceResize',
                  scales=[(int(s), longer) for s in crop_resize], keep_ratio=True),
             dict(type='mmdet.RandomCrop', crop_type='absolute_range',
                  crop_size=tuple(crop_size), allow_negative_crop=True),
             dict(type='mmdet.RandomChoiceResize', scales=multi_scale, keep_ratio=True)],
        ]),
        dict(type='PackPanopticInputs'),
    ]


def test_pipeline(scale: Tuple[int, int], *, video: bool = False,
                  backend_args: Optional[dict] = None) -> List[dict]:
    """Resize to ``scale`` (keeping the aspect ratio), load the ground truth
    for the metrics, pack (with ``video_id`` / ``frame_id`` for video)."""
    return [_load_image(backend_args),
            dict(type='mmdet.Resize', scale=tuple(scale), keep_ratio=True),
            _eval_annotations(backend_args),
            dict(type='PackPanopticInputs',
                 meta_keys=VIDEO_META_KEYS if video else TEST_META_KEYS)]


def tta_pipeline(scale: Tuple[int, int], *, ratios: Sequence[float] = TTA_RATIOS,
                 backend_args: Optional[dict] = None) -> List[dict]:
    """Test-time augmentation views: ``scale`` times each of ``ratios`` (the
    first is the plain test view, the reference the others are mapped onto),
    each without and with a horizontal flip."""
    scales = [tuple(int(round(s * r)) for s in scale) for r in ratios]
    return [
        _load_image(backend_args),
        dict(type='TestTimeAug',
             transforms=[
                 [dict(type='mmdet.Resize', scale=s, keep_ratio=True) for s in scales],
                 [dict(type='mmdet.RandomFlip', prob=0.), dict(type='mmdet.RandomFlip', prob=1.)],
                 [_eval_annotations(backend_args)],
                 [dict(type='PackPanopticInputs', meta_keys=TTA_META_KEYS)],
             ])
    ]


def split(ann_file: str, img: str, seg: str) -> Dict[str, str]:
    """One split's annotation file and image / PNG folders (under ``data_root``)."""
    return dict(ann_file=ann_file, img=img, seg=seg)


def dataloaders(dataset_type: str, data_root: str, *, train: Dict[str, str],
                val: Dict[str, str], train_pipeline: List[dict], test_pipeline: List[dict],
                batch_size: int = 2, val_batch_size: int = 1, num_workers: int = 2,
                train_sampler: str = 'infinite', video: bool = False,
                filter_cfg: Optional[dict] = None,
                replace: bool = False) -> Tuple[dict, dict, dict]:
    """``(train_dataloader, val_dataloader, test_dataloader)``.

    Args:
        train, val: :func:`split` of each.
        train_sampler: ``'infinite'`` (iteration-based schedules) or
            ``'aspect_ratio'`` (mmdet's epoch sampler with aspect-ratio
            batches).
        video: the evaluation loader gives whole videos, frames in order, in
            one process (``VideoSampler``, no loader workers): trackers and
            the video metric need it.
        filter_cfg: the training dataset's filter (default: keep images
            without things).
        replace: the loaders replace those of the config's ``_base_``
            (``_delete_``) instead of being merged into them.
    """
    persistent = dict(persistent_workers=True) if num_workers else {}
    if train_sampler == 'infinite':
        samplers = dict(sampler=dict(type='InfiniteSampler', shuffle=True))
    elif train_sampler == 'aspect_ratio':
        samplers = dict(sampler=dict(type='DefaultSampler', shuffle=True),
                        batch_sampler=dict(type='mmdet.AspectRatioBatchSampler'))
    else:
        raise ValueError(f"train_sampler must be 'infinite' or 'aspect_ratio', "
                         f'got {train_sampler!r}')
    train_loader = dict(
        batch_size=batch_size, num_workers=num_workers, **persistent, **samplers,
        dataset=dict(type=dataset_type, data_root=data_root, ann_file=train['ann_file'],
                     data_prefix=dict(img=train['img'], seg=train['seg']),
                     filter_cfg=filter_cfg or dict(filter_empty_gt=False),
                     pipeline=train_pipeline))
    if video:
        val_loader = dict(batch_size=val_batch_size, num_workers=0, drop_last=False,
                          sampler=dict(type='VideoSampler'))
    else:
        val_loader = dict(batch_size=val_batch_size, num_workers=num_workers, **persistent,
                          drop_last=False, sampler=dict(type='DefaultSampler', shuffle=False))
    val_loader['dataset'] = dict(type=dataset_type, data_root=data_root,
                                 ann_file=val['ann_file'],
                                 data_prefix=dict(img=val['img'], seg=val['seg']),
                                 test_mode=True, pipeline=test_pipeline)
    if replace:
        train_loader = dict(_delete_=True, **train_loader)
        val_loader = dict(_delete_=True, **val_loader)
    return train_loader, val_loader, val_loader


def image_evaluators(instances_json: Optional[str] = None) -> List[dict]:
    """PQ, instance AP (mmdet's CocoMetric on the thing segments, or on
    ``instances_json``) and semantic mIoU (mmseg's IoUMetric) from one run."""
    instances = dict(type='InstanceFromPanopticMetric', metric=['bbox', 'segm'])
    if instances_json is not None:
        instances.update(gt_source='instances_json', ann_file=instances_json)
    return [dict(type='PanopticQualityMetric'), instances, dict(type='SemanticIoUMetric')]


def video_evaluators() -> List[dict]:
    """VPQ (windows of 1..4 frames) and STQ, and each frame's PQ."""
    return [dict(type='VideoPanopticMetric'), dict(type='PanopticQualityMetric')]


def coco_reference_differences() -> Dict[str, str]:
    """How the COCO dataset configs differ from the mmdet configs they
    reproduce (their ``reference_differences``; ``test_mmdet_parity.py``
    checks that no other setting differs)."""
    return dict(evaluator=(
        "PQ is computed in memory with panopticapi's rules (the numbers of mmdet's "
        "CocoPanopticMetric, tested) instead of writing PNGs; instance AP is mmdet's "
        "CocoMetric (on instances_val2017.json when present, else on the panoptic thing "
        "segments) and semantic mIoU mmseg's IoUMetric, for every model"))


def coco_panoptic_data(data_root: str, train_pipeline: List[dict],
                       test_pipeline: List[dict]) -> Tuple[dict, dict, dict, List[dict]]:
    """COCO panoptic 2017 (``annotations/panoptic_{train,val}2017``): mmdet's
    samplers (aspect-ratio batches; the iteration loop restarts the epoch
    itself), images without things or under 32 px dropped from training,
    and PQ + instance AP on the official ``instances_val2017.json`` (an error
    when it is missing; without it: ``--cfg-options
    val_evaluator.1.gt_source=panoptic val_evaluator.1.ann_file=None``) +
    mIoU.  Returns ``(train_dataloader, val_dataloader, test_dataloader,
    val_evaluator)``."""
    loaders = dataloaders(
        'CocoPanopticDataset', data_root,
        train=split('annotations/panoptic_train2017.json', 'train2017/',
                    'annotations/panoptic_train2017/'),
        val=split('annotations/panoptic_val2017.json', 'val2017/',
                  'annotations/panoptic_val2017/'),
        train_pipeline=train_pipeline, test_pipeline=test_pipeline,
        train_sampler='aspect_ratio', filter_cfg=dict(filter_empty_gt=True, min_size=32))
    return (*loaders, image_evaluators(data_root + 'annotations/instances_val2017.json'))


def toy_video_data(train_pipeline: List[dict], *, data_root: str = 'data/toy_video/',
                   size: int = 128) -> Tuple:
    """The toy video settings (``make_toy_video.py``) for a video config
    built on a toy image config: ``(dataset_type, test_pipeline,
    train_dataloader, val_dataloader, test_dataloader, val_evaluator,
    test_evaluator)``; the loaders replace the image config's."""
    dataset_type = 'VideoPanopticDataset'
    test = test_pipeline((size, size), video=True)
    loaders = dataloaders(
        dataset_type, data_root,
        train=split('annotations/panoptic_train.json', 'train/', 'annotations/panoptic_train/'),
        val=split('annotations/panoptic_val.json', 'val/', 'annotations/panoptic_val/'),
        train_pipeline=train_pipeline, test_pipeline=test, batch_size=4, val_batch_size=4,
        num_workers=0, video=True, filter_cfg=dict(filter_empty_gt=True), replace=True)
    evaluators = video_evaluators()
    return (dataset_type, test, *loaders, evaluators, evaluators)


def _clip_pipeline(train_pipeline: List[dict]) -> List[dict]:
    """A training pipeline for clips: track ids loaded, no random flip (a
    clip's frames would flip independently)."""
    return [dict(t, with_track_ids=True) if t['type'] == 'LoadPanopticAnnotations' else t
            for t in train_pipeline if t['type'] != 'mmdet.RandomFlip']


def clip_training(train_pipeline: List[dict], train_dataloader: dict, *, clip_length: int,
                  clips_per_batch: int = 2, max_gap: int = 1) -> Tuple[List[dict], dict]:
    """``(train_pipeline, train_dataloader)`` of a learned tracker
    (:class:`DVIS`) trained on clips, from an image training pipeline (a
    list, not a ``{{_base_}}`` reference) and a video config's loader:
    track ids loaded (``with_track_ids``), no random flip (a clip's frames
    would flip independently), ``clips_per_batch`` clips of ``clip_length``
    frames 1..``max_gap`` apart per batch (:class:`VideoClipSampler`)."""
    pipeline = _clip_pipeline(train_pipeline)
    loader = dict(train_dataloader, batch_size=clip_length * clips_per_batch,
                  sampler=dict(type='VideoClipSampler', clip_length=clip_length,
                               max_gap=max_gap),
                  dataset=dict(train_dataloader['dataset'], pipeline=pipeline))
    return pipeline, loader


# OV-DVIS++'s pseudo-video scales (INPUT.PSEUDO.MIN_SIZE_TRAIN, longer side
# at most MAX_SIZE_TRAIN 1400) for mmdet's RandomChoiceResize.
OV_DVIS_PSEUDO_SCALES = [(1400, s) for s in (160, 192, 224, 256, 288, 320, 352, 392, 416, 448,
                                             480, 512, 544, 576, 608, 640, 672, 704, 736, 768,
                                             800)]


def pseudo_video_clips(train_pipeline: List[dict], *, clip_length: int,
                       clips_per_batch: int = 1) -> Tuple[List[dict], dict]:
    """``(train_pipeline, train_dataloader)`` to train a learned tracker
    (:class:`DVIS`) on pseudo videos of an *image* dataset, OV-DVIS++'s
    recipe for a model that never sees a video dataset: each image
    ``clip_length`` times in a row (:class:`PseudoVideoClipSampler`), every
    copy through ``train_pipeline``'s random resize / crop on its own, the
    image's segment ids as track ids.  ``train_pipeline`` is a list (not a
    ``{{_base_}}`` reference); the loader is merged into the image config's
    (its dataset kept, its sampler replaced; no aspect-ratio batches, which
    would split clips)."""
    pipeline = _clip_pipeline(train_pipeline)
    loader = dict(batch_size=clip_length * clips_per_batch, batch_sampler=None,
                  sampler=dict(_delete_=True, type='PseudoVideoClipSampler',
                               clip_length=clip_length),
                  dataset=dict(pipeline=pipeline))
    return pipeline, loader


def ov_dvis_zero_shot(dataset: str, image_model: dict, *, clip_length: int,
                      offline: bool = False, test_scale: Tuple[int, int] = (1333, 480)
                      ) -> Tuple[dict, List[dict], dict, List[dict], List[dict], dict, dict,
                                 List[dict], List[dict]]:
    """OV-DVIS++ on a COCO-trained open-vocabulary image model
    (``image_model``, e.g. FC-CLIP's), zero-shot on a video ``dataset`` (a
    key of :data:`VIDEO_DATASETS`): :func:`dvis_model` with DVIS++'s R50 /
    ConvNeXt-L tracker (6 blocks, FFN 2048, 8 heads, weighted-average
    denoising, the contrastive term), trained on COCO pseudo videos of
    ``clip_length`` copies (OV-DVIS++'s scales, frames padded to 32 instead
    of the LSJ canvas), evaluated with the dataset's vocabulary at a shorter
    side of 480 (``FC-CLIP_zero_shot_convnextl.yaml``'s MIN_SIZE_TEST);
    ``offline``: the temporal refiner on whole videos.  Returns ``(model,
    train_pipeline, train_dataloader, test_pipeline, tta_pipeline,
    val_dataloader, test_dataloader, evaluators, custom_hooks)``."""
    model = dvis_model(image_model, num_layers=6, num_heads=8, feedforward_channels=2048,
                       clip_length=clip_length, noise='wa', reid_weight=2.0, offline=offline,
                       detector_changes=dict(data_preprocessor=dict(batch_augments=None)))
    pipeline, train_loader = pseudo_video_clips(
        train_pipeline(dict(type='mmdet.RandomChoiceResize', scales=OV_DVIS_PSEUDO_SCALES,
                            keep_ratio=True)),
        clip_length=clip_length, clips_per_batch=1)
    (model, test, tta, val_loader, test_loader, evaluators,
     hooks) = zero_shot_video(dataset, None, model=model, test_scale=test_scale)
    if offline:
        val_loader = test_loader = whole_video_batches(val_loader)
    return model, pipeline, train_loader, test, tta, val_loader, test_loader, evaluators, hooks


def whole_video_batches(loader: dict, clip_length: Optional[int] = None) -> dict:
    """A video evaluation loader whose batches are whole videos
    (:class:`VideoBatchSampler`; offline models) or, with ``clip_length``,
    clips of one video (tube queries)."""
    sampler = dict(type='VideoBatchSampler')
    if clip_length is not None:
        sampler['clip_length'] = clip_length
    return dict(loader, batch_sampler=sampler)


def dvis_recipe(dataset: str, image_model: dict, *, offline: bool = False) -> Tuple:
    """DVIS++'s R50 VIPSeg recipe on a video dataset's Mask2Former R50
    (``image_model``, frozen; a key of :data:`VIDEO_DATASETS`): the referring
    tracker (6 blocks, width 256, 8 heads, FFN 2048, weighted-average
    denoising, no contrastive term as DVIS++'s VIPSeg R50 config) on clips of
    5 frames 1..2 apart or, ``offline``, the temporal refiner on clips of 11
    consecutive frames tested on whole videos; one clip per GPU, 20k
    iterations, lr 1e-4 divided by 10 at 14k.  Returns ``(model,
    train_pipeline, test_pipeline, train_dataloader, val_dataloader,
    test_dataloader, val_evaluator, test_evaluator, train_cfg,
    optim_wrapper, param_scheduler)``."""
    clip_length = 11 if offline else 5
    model = dvis_model(image_model, num_layers=6, num_heads=8, feedforward_channels=2048,
                       clip_length=clip_length, noise='wa', reid_weight=0.0, offline=offline)
    (train, test, train_loader, val_loader, test_loader, val_eval,
     test_eval) = video_clip_data(dataset, clip_length=clip_length, clips_per_batch=1,
                                  max_gap=1 if offline else 2)
    if offline:
        val_loader = test_loader = whole_video_batches(val_loader)
    return (model, train, test, train_loader, val_loader, test_loader, val_eval, test_eval,
            *step_schedule(20000, 14000, lr=1e-4, replace_loop=False))


def tube_video_recipe(dataset: str, image_model: dict, clip_length: int) -> Tuple:
    """Tube queries on a video dataset's Mask2Former recipe (``image_model``;
    a key of :data:`VIDEO_DATASETS`): :func:`tube_recipe`, trained on 2 clips
    of ``clip_length`` consecutive frames per GPU (the image recipe's
    schedule), tested clip by clip.  Returns ``(model, train_pipeline,
    test_pipeline, train_dataloader, val_dataloader, test_dataloader,
    val_evaluator, test_evaluator)``."""
    (train, test, train_loader, val_loader, _, val_eval,
     test_eval) = video_clip_data(dataset, clip_length=clip_length, clips_per_batch=2)
    val_loader = whole_video_batches(val_loader, clip_length)
    return (tube_recipe(image_model, clip_length), train, test, train_loader, val_loader,
            val_loader, val_eval, test_eval)


def tube_recipe(image_model: dict, clip_length: int) -> dict:
    """A :class:`TubeVideoSegmentor` on an image config's model: queries
    over clips of ``clip_length`` frames, clips linked by query matching
    (:class:`QueryPropagationTracker`, similarity 0.5, 5 frames of memory)."""
    return dict(_delete_=True, type='TubeVideoSegmentor', detector=image_model,
                clip_length=clip_length,
                tracker=dict(type='QueryPropagationTracker', refresh_interval=None,
                             sim_thr=0.5, max_age=5))


def step_schedule(max_iters: int, milestone: int, lr: float, *,
                  replace_loop: bool = True) -> Tuple[dict, dict, List[dict]]:
    """``(train_cfg, optim_wrapper, param_scheduler)``: ``max_iters``
    iterations (one evaluation at the end), the base config's optimiser at
    ``lr``, divided by 10 at ``milestone`` (detectron2's STEPS).
    ``replace_loop=False`` merges the loop into the base config's (an
    iteration-based base) instead of replacing it."""
    loop = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
    return (dict(loop, _delete_=True) if replace_loop else loop,
            dict(optimizer=dict(lr=lr)),
            [dict(_delete_=True, type='MultiStepLR', milestones=[milestone], gamma=0.1,
                  by_epoch=False, begin=0, end=max_iters)])


def toy_dvis_model(image_model: dict, *, offline: bool = False,
                   detector_changes: Optional[dict] = None) -> dict:
    """The toy DVIS (:func:`dvis_model` on the toy Mask2Former): 3 blocks,
    4 heads, FFN 256, clips of 5, no denoising and no contrastive term (on
    the toy videos they lowered VPQ at 600 steps), the toy segmenter's 1024
    points per frame for matching and losses; ``offline``: the refiner with
    a 3-frame convolution."""
    return dvis_model(image_model, num_layers=3, num_heads=4, feedforward_channels=256,
                      clip_length=5, noise=None, reid_weight=0.0, offline=offline,
                      kernel_size=3 if offline else 5,
                      criterion=dict(matcher=dict(type='HungarianMaskMatcher', num_points=1024),
                                     num_points=1024),
                      detector_changes=detector_changes)


def toy_dvis_schedule(max_iters: int = 600) -> Tuple[dict, dict, List[dict], dict]:
    """``(train_cfg, optim_wrapper, param_scheduler, default_hooks)`` of the
    toy DVIS stages: ``max_iters`` steps from the warm start at a low
    learning rate (2e-5, 50 warm-up steps, cosine to 1e-5), gradients
    clipped at 0.01, one checkpoint at the end."""
    return (dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters),
            dict(optimizer=dict(lr=2e-5), clip_grad=dict(max_norm=0.01)),
            [dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=50),
             dict(type='CosineAnnealingLR', by_epoch=False, begin=50, end=max_iters,
                  eta_min=1e-5)],
            dict(checkpoint=dict(interval=max_iters)))


def dvis_model(detector: dict, *, num_layers: int, num_heads: int, feedforward_channels: int,
               clip_length: int, offline: bool = False, noise: Optional[str] = 'wa',
               reid_weight: float = 2.0, kernel_size: int = 5,
               criterion: Optional[dict] = None,
               detector_changes: Optional[dict] = None) -> dict:
    """A :class:`DVIS` model dict on ``detector`` (an image config's model):
    stage 1 (online: the referring tracker trains) or, with ``offline``,
    stage 2 (the temporal refiner trains, of the same size; offline
    inference).  ``criterion`` changes :class:`TubeMaskSetCriterion`'s
    defaults (e.g. the matcher's points); ``detector_changes`` the image
    model's settings (:class:`VideoPanopticSegmentor`).  On an
    open-vocabulary image model (FC-CLIP, a text classifier) this is
    OV-DVIS++: the tracker classifies in the same text space."""
    tracker = dict(type='ReferringTracker', num_layers=num_layers, num_heads=num_heads,
                   feedforward_channels=feedforward_channels, noise=noise, noise_ratio=0.5)
    model = dict(_delete_=True, type='DVIS', detector=detector, referring_tracker=tracker,
                 criterion=dict(dict(type='TubeMaskSetCriterion', reid_weight=reid_weight),
                                **(criterion or {})),
                 clip_length=clip_length, mode='online', train_part='tracker')
    if detector_changes:
        model['detector_changes'] = detector_changes
    if offline:
        model.update(refiner=dict(type='TemporalRefiner', num_layers=num_layers,
                                  num_heads=num_heads,
                                  feedforward_channels=feedforward_channels,
                                  kernel_size=kernel_size),
                     mode='offline', train_part='refiner')
    return model


def poly_iter_schedule(max_iters: int, interval: int = 5000) -> Tuple[dict, dict, dict, dict]:
    """Mask2Former's iteration-based schedules (ADE20K, Cityscapes,
    Mapillary, video frames): ``(param_scheduler, train_cfg, default_hooks,
    log_processor)`` for a base schedule of ``IterBasedTrainLoop``: poly
    learning-rate decay (power 0.9) to 0 at ``max_iters``, evaluation every
    ``interval`` iterations and once more at the end, a checkpoint every
    ``interval`` (the last 3 kept), logs by iteration."""
    return (dict(_delete_=True, type='PolyLR', eta_min=0, power=0.9, begin=0, end=max_iters,
                 by_epoch=False),
            dict(max_iters=max_iters,
                 dynamic_intervals=[(max_iters // interval * interval + 1, max_iters)]),
            dict(checkpoint=dict(type='CheckpointHook', by_epoch=False, save_last=True,
                                 max_keep_ckpts=3, interval=interval)),
            dict(by_epoch=False))


def eomt_train_pipeline(img_size: Tuple[int, int], *, scale_range: Tuple[float, float] = (0.1, 2.0),
                        backend_args: Optional[dict] = None) -> List[dict]:
    """EoMT's training augmentation: colour jitter (EoMT's brightness +-32,
    contrast / saturation 0.5..1.5, hue +-18: mmdet's
    ``PhotoMetricDistortion``), flip, scale jitter of an ``img_size`` canvas
    by ``scale_range``, padding with black pixels to ``img_size`` and an
    ``img_size`` crop."""
    return [
        _load_image(backend_args),
        dict(type='LoadPanopticAnnotations', backend_args=backend_args),
        dict(type='mmdet.PhotoMetricDistortion', brightness_delta=32, contrast_range=(0.5, 1.5),
             saturation_range=(0.5, 1.5), hue_delta=18),
        dict(type='mmdet.RandomFlip', prob=0.5),
        dict(type='mmdet.RandomResize', scale=tuple(img_size), ratio_range=tuple(scale_range),
             keep_ratio=True),
        dict(type='PadToSize', size=tuple(img_size)),
        dict(type='mmdet.RandomCrop', crop_size=tuple(img_size), crop_type='absolute',
             recompute_bbox=True, allow_negative_crop=True),
        dict(type='PackPanopticInputs'),
    ]


def eomt_test_pipeline(img_size: Tuple[int, int], *, video: bool = False,
                       backend_args: Optional[dict] = None) -> List[dict]:
    """EoMT's evaluation input: the longer side resized to fit ``img_size``
    (PIL bilinear, as EoMT), padded with black pixels to ``img_size``."""
    return [
        _load_image(backend_args),
        dict(type='mmdet.Resize', scale=tuple(img_size), keep_ratio=True, backend='pillow'),
        dict(type='PadToSize', size=tuple(img_size)),
        _eval_annotations(backend_args),
        dict(type='PackPanopticInputs', meta_keys=VIDEO_META_KEYS if video else TEST_META_KEYS),
    ]


def eomt_tta_pipeline(img_size: Tuple[int, int], *,
                      backend_args: Optional[dict] = None) -> List[dict]:
    """Test-time augmentation for EoMT: the test view and its mirror (EoMT
    itself reports no TTA; its fixed input size leaves flips, not scales)."""
    return [
        _load_image(backend_args),
        dict(type='TestTimeAug',
             transforms=[
                 [dict(type='mmdet.Resize', scale=tuple(img_size), keep_ratio=True,
                       backend='pillow')],
                 [dict(type='mmdet.RandomFlip', prob=0.), dict(type='mmdet.RandomFlip', prob=1.)],
                 [dict(type='PadToSize', size=tuple(img_size))],
                 [_eval_annotations(backend_args)],
                 [dict(type='PackPanopticInputs', meta_keys=TTA_META_KEYS)],
             ])
    ]


def eomt_schedule(max_iters: int, *, lr: float = 1e-4, layer_decay: float = 0.8,
                  full_rate_last: int = 0,
                  weight_decay: float = 0.05, warmup_iters: Tuple[int, int] = (500, 1000),
                  annealing_starts: Sequence[int], annealing_ends: Sequence[int],
                  interval: Optional[int] = None) -> Tuple:
    """EoMT's optimisation (``training/lightning_module.py``): AdamW,
    layer-wise learning-rate decay over the ViT, gradient norm clipped at
    0.01, the two-stage warm-up + poly schedule and the mask annealing.
    Returns ``(optim_wrapper, param_scheduler, train_cfg, custom_hooks,
    default_hooks, log_processor)``; evaluation and checkpoints every
    ``interval`` iterations (default: the end only)."""
    interval = interval or max_iters
    return (
        dict(type='OptimWrapper',
             optimizer=dict(type='AdamW', lr=lr, weight_decay=weight_decay),
             constructor='ViTLayerDecayOptimWrapperConstructor',
             paramwise_cfg=dict(layer_decay=layer_decay, full_rate_last=full_rate_last),
             clip_grad=dict(max_norm=0.01, norm_type=2)),
        [dict(type='TwoStageWarmupPolyLR', warmup_iters=tuple(warmup_iters), power=0.9,
              begin=0, end=max_iters, by_epoch=False)],
        dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=interval),
        [dict(type='MaskAnnealingHook', start_iters=list(annealing_starts),
              end_iters=list(annealing_ends), power=0.9),
         dict(type='PanopticVisualizationHook', max_images=8)],
        dict(checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=interval,
                             max_keep_ckpts=2, save_last=True)),
        dict(by_epoch=False))


__all__ = ['TEST_META_KEYS', 'VIDEO_META_KEYS', 'TTA_META_KEYS', 'TTA_RATIOS',
           'train_pipeline', 'test_pipeline', 'tta_pipeline', 'split', 'dataloaders',
           'image_evaluators', 'video_evaluators', 'coco_reference_differences',
           'coco_panoptic_data', 'toy_video_data',
           'poly_iter_schedule', 'eomt_train_pipeline', 'eomt_test_pipeline',
           'eomt_tta_pipeline', 'eomt_schedule']


# FC-CLIP's zero-shot panoptic benchmarks: data, the official test scale
# (its MIN_SIZE_TEST / MAX_SIZE_TEST: ADE20K 640 / 2560, Cityscapes and
# Mapillary Vistas 1024 / 2560) and the bundled vocabulary of each.
ZERO_SHOT_PANOPTIC = {
    'ade20k': dict(
        data=dict(type='ADE20KPanopticDataset', data_root='data/ade/ADEChallengeData2016/',
                  ann_file='ade20k_panoptic_val.json',
                  data_prefix=dict(img='images/validation/', seg='ade20k_panoptic_val/')),
        scale=(2560, 640), vocabulary='ade20k_150'),
    'cityscapes': dict(
        data=dict(type='CityscapesPanopticDataset', data_root='data/cityscapes/',
                  ann_file='gtFine/cityscapes_panoptic_val.json',
                  data_prefix=dict(img='leftImg8bit/val/', seg='gtFine/cityscapes_panoptic_val/')),
        scale=(2560, 1024), vocabulary='cityscapes'),
    'mapillary_vistas': dict(
        data=dict(type='CocoPanopticDataset', data_root='data/mapillary/',
                  ann_file='validation/v1.2/panoptic/panoptic_2018.json',
                  data_prefix=dict(img='validation/images/', seg='validation/v1.2/panoptic/')),
        scale=(2560, 1024), vocabulary='mapillary_vistas'),
}


def zero_shot_panoptic(dataset: str, *, test_scale: Optional[Tuple[int, int]] = None
                       ) -> Tuple[str, Tuple[int, int], List[dict], List[dict], dict, List[dict]]:
    """Zero-shot panoptic evaluation of a COCO-trained open-vocabulary config
    on ``dataset`` (a key of :data:`ZERO_SHOT_PANOPTIC`): ``(data_root,
    test_scale, test_pipeline, tta_pipeline, test_dataloader,
    custom_hooks)``; the loader is merged into the COCO config's (its batch,
    sampler and metric stay), ``TextVocabularyHook`` switches the model to
    the dataset's bundled vocabulary (names with synonyms, label order).
    ``test_scale`` defaults to FC-CLIP's."""
    data_root, scale, pipeline, tta, loader, hooks = _zero_shot_test(
        ZERO_SHOT_PANOPTIC, dataset, test_scale)
    return data_root, scale, pipeline, tta, loader, hooks + [
        dict(type='PanopticVisualizationHook', max_images=8)]


def _zero_shot_test(table: Dict[str, dict], dataset: str,
                    test_scale: Optional[Tuple[int, int]]) -> Tuple:
    """``(data_root, scale, test_pipeline, tta_pipeline, test_dataloader,
    [TextVocabularyHook])`` of a zero-shot benchmark table's entry."""
    if dataset not in table:
        raise KeyError(f'no zero-shot settings for {dataset!r}; known: {sorted(table)}')
    spec = table[dataset]
    scale = tuple(test_scale or spec['scale'])
    pipeline = test_pipeline(scale)
    loader = dict(dataset=dict(spec['data'], pipeline=pipeline))
    hooks = [dict(type='TextVocabularyHook', vocabularies=dict(test=spec['vocabulary']))]
    return spec['data']['data_root'], scale, pipeline, tta_pipeline(scale), loader, hooks


# Zero-shot video panoptic benchmarks (OV-DVIS++'s protocol for VIPSeg):
# the validation split of each video dataset config in configs/_base_/datasets/,
# its test scale and its bundled vocabulary (label order).
# The standard video panoptic datasets as their base configs lay them out
# (configs/_base_/datasets/vipseg.py, cityscapes_vps.py, kitti_step.py): the
# zero-shot video configs and the clip-trained video models read them here.
VIDEO_DATASETS = {
    'vipseg': dict(data_root='data/VIPSeg_720P/',
                   train=split('panoptic_train_video.json', 'images/', 'panomasksRGB/'),
                   val=split('panoptic_val_video.json', 'images/', 'panomasksRGB/'),
                   scale=(1280, 720), crop=(720, 720), vocabulary='vipseg'),
    'cityscapes_vps': dict(data_root='data/cityscapes_vps/',
                           train=split('train/panoptic_train_video.json', 'train/img/',
                                       'train/panoptic_video/'),
                           val=split('val/panoptic_val_video.json', 'val/img/',
                                     'val/panoptic_video/'),
                           scale=(2048, 1024), crop=(512, 1024), vocabulary='cityscapes'),
    'kitti_step': dict(data_root='data/kitti_step/',
                       train=split('annotations/panoptic_train.json', 'images/train/',
                                   'annotations/panoptic_train/'),
                       val=split('annotations/panoptic_val.json', 'images/val/',
                                 'annotations/panoptic_val/'),
                       scale=(1242, 375), crop=(384, 1248), vocabulary='cityscapes'),
}


def _video_dataset(dataset: str) -> dict:
    if dataset not in VIDEO_DATASETS:
        raise KeyError(f'no video dataset settings for {dataset!r}; known: '
                       f'{sorted(VIDEO_DATASETS)}')
    return VIDEO_DATASETS[dataset]


def video_clip_data(dataset: str, *, clip_length: int, clips_per_batch: int = 1,
                    max_gap: int = 1) -> Tuple:
    """The data of a clip-trained video model (:class:`DVIS`,
    :class:`ViPDeepLab`, :class:`TubeVideoSegmentor`) on ``dataset`` (a key
    of :data:`VIDEO_DATASETS`), with its base config's augmentation
    (scale jitter 0.5..2.0, crop): ``(train_pipeline, test_pipeline,
    train_dataloader, val_dataloader, test_dataloader, val_evaluator,
    test_evaluator)``; the
    loaders replace the image config's.  Each frame of a clip is augmented
    on its own (the official DVIS / ViP-DeepLab recipes share one
    augmentation per clip)."""
    spec = _video_dataset(dataset)
    image_pipeline = train_pipeline(
        dict(type='mmdet.RandomResize', scale=spec['scale'], ratio_range=(0.5, 2.0),
             keep_ratio=True), crop_size=spec['crop'])
    test = test_pipeline(spec['scale'], video=True)
    train_loader, val_loader, test_loader = dataloaders(
        'VideoPanopticDataset', spec['data_root'], train=spec['train'], val=spec['val'],
        train_pipeline=image_pipeline, test_pipeline=test, video=True, replace=True)
    pipeline, train_loader = clip_training(image_pipeline, train_loader,
                                           clip_length=clip_length,
                                           clips_per_batch=clips_per_batch, max_gap=max_gap)
    return (pipeline, test, train_loader, val_loader, test_loader, video_evaluators(),
            video_evaluators())


def zero_shot_video(dataset: str, detector: Optional[dict], tracker: Optional[dict] = None, *,
                    test_scale: Optional[Tuple[int, int]] = None, model: Optional[dict] = None
                    ) -> Tuple[dict, List[dict], List[dict], dict, dict, List[dict], List[dict]]:
    """Zero-shot video panoptic evaluation of a COCO-trained
    open-vocabulary image model (``detector``, the image config's model)
    with ``tracker`` on ``dataset`` (a key of :data:`VIDEO_DATASETS`):
    ``(model, test_pipeline, tta_pipeline, val_dataloader, test_dataloader,
    evaluators, custom_hooks)``.  The loaders replace the
    image config's (whole videos, frames in order, one process); the
    training loader stays the image config's (COCO); ``TextVocabularyHook``
    switches to the dataset's bundled vocabulary for validation and test.
    The image config's checkpoint loads into the video model as it is.
    ``model``: a video model dict to use instead of ``detector`` +
    ``tracker`` (e.g. OV-DVIS++: :func:`dvis_model` on the image model)."""
    if (model is None) == (tracker is None):
        raise ValueError('zero_shot_video needs a tracker or a model, not both')
    spec = _video_dataset(dataset)
    pipeline = test_pipeline(tuple(test_scale or spec['scale']), video=True)
    _, val_loader, test_loader = dataloaders(
        'VideoPanopticDataset', spec['data_root'], train=spec['val'], val=spec['val'],
        train_pipeline=[], test_pipeline=pipeline, video=True, replace=True)
    vocab = spec['vocabulary']
    hooks = [dict(type='TextVocabularyHook', vocabularies=dict(val=vocab, test=vocab))]
    if model is None:
        model = dict(_delete_=True, type='VideoPanopticSegmentor', detector=detector,
                     tracker=tracker)
    return (model, pipeline, tta_pipeline(tuple(test_scale or spec['scale'])), val_loader,
            test_loader, video_evaluators(), hooks)


# Zero-shot semantic benchmarks (FC-CLIP's / SAN's): the semantic label maps
# converted to COCO panoptic with semantic_to_coco_panoptic.py --vocabulary
# (every class stuff), scored by mIoU of the fusion's semantic output.
ZERO_SHOT_SEMANTIC = {
    'pascal_context_59': dict(
        data=dict(type='CocoPanopticDataset', data_root='data/VOCdevkit/VOC2010/',
                  ann_file='pc59_val_panoptic.json',
                  data_prefix=dict(img='JPEGImages/', seg='pc59_val_panoptic/')),
        scale=(2560, 640), vocabulary='pascal_context_59'),
    'pascal_context_459': dict(
        data=dict(type='CocoPanopticDataset', data_root='data/VOCdevkit/VOC2010/',
                  ann_file='pc459_val_panoptic.json',
                  data_prefix=dict(img='JPEGImages/', seg='pc459_val_panoptic/')),
        scale=(2560, 640), vocabulary='pascal_context_459'),
    'ade20k_847': dict(
        data=dict(type='CocoPanopticDataset', data_root='data/ADE20K_2021_17_01/',
                  ann_file='ade847_val_panoptic.json',
                  data_prefix=dict(img='images_detectron2/validation/',
                                   seg='ade847_val_panoptic/')),
        scale=(2560, 640), vocabulary='ade20k_847'),
}


def zero_shot_semantic(dataset: str, *, test_scale: Optional[Tuple[int, int]] = None
                       ) -> Tuple[str, Tuple[int, int], List[dict], List[dict], dict, List[dict],
                                  List[dict]]:
    """Zero-shot semantic evaluation (mIoU) of a COCO-trained
    open-vocabulary config on ``dataset`` (a key of
    :data:`ZERO_SHOT_SEMANTIC`): ``(data_root, test_scale, test_pipeline,
    tta_pipeline, test_dataloader, test_evaluator, custom_hooks)``.  The
    config also sets ``model.fusion.semantic_on=True``: the metric reads the
    fusion's semantic map (softmax class x sigmoid mask, summed over the
    queries), the benchmarks' protocol."""
    data_root, scale, pipeline, tta, loader, hooks = _zero_shot_test(
        ZERO_SHOT_SEMANTIC, dataset, test_scale)
    return data_root, scale, pipeline, tta, loader, [dict(type='SemanticIoUMetric')], hooks


def fcclip_model(backbone: dict, text_encoder: dict, in_channels: Sequence[int], *,
                 clip_pooling: str, ensemble_on_valid_mask: bool,
                 image_size: Tuple[int, int] = (1024, 1024), **head) -> dict:
    """The FC-CLIP model settings over ``_base_/models/mask2former_r50.py``
    for a CLIP tower (``backbone``) and its text tower: the official
    ensemble (alpha 0.4 / beta 0.8, CLIP's logit scale 100, in-vocabulary
    softmax without the void logit), CLIP's normalisation, LSJ padding, the
    text classifier on COCO's vocabulary with the ViLD templates and the max
    over synonyms; ``head``: more query-head settings (``num_queries``)."""
    return dict(
        type='FCCLIP', alpha=0.4, beta=0.8, clip_logit_scale=100.0, void='separate',
        clip_pooling=clip_pooling, ensemble_on_valid_mask=ensemble_on_valid_mask,
        # CLIP's own normalisation (RGB): its image tower was trained with it.
        data_preprocessor=dict(
            mean=[122.7709383, 116.7460125, 104.09373615],
            std=[68.5005327, 66.6321579, 70.32316305],
            batch_augments=[
                dict(type='mmdet.BatchFixedSizePad', size=image_size, img_pad_value=0,
                     pad_mask=True, mask_pad_value=0, pad_seg=True, seg_pad_value=255)]),
        backbone=dict(backbone, _delete_=True),
        panoptic_head=dict(
            in_channels=list(in_channels),
            classifier=dict(
                type='TextEmbeddingClassifier', text_encoder=text_encoder,
                vocabulary='coco_panoptic',  # 80 things + 53 stuff, COCO's label order
                templates='vild',
                synonym_reduce='max'),  # a class scores as its best synonym (official)
            **head))


def open_vocab_runtime(interval: int = 5000) -> Tuple[List[dict], dict, dict]:
    """``(custom_hooks, default_hooks, log_processor)`` of the COCO
    open-vocabulary configs: each evaluation uses the evaluated dataset's
    class names (``TextVocabularyHook``), pictures of the first images, a
    checkpoint every ``interval`` iterations (the last 3 kept)."""
    return ([dict(type='TextVocabularyHook'),
             dict(type='PanopticVisualizationHook', max_images=8)],
            dict(checkpoint=dict(type='CheckpointHook', by_epoch=False, save_last=True,
                                 max_keep_ckpts=3, interval=interval)),
            dict(by_epoch=False))


TOY_CLASSES = ['ellipse', 'box', 'triangle', 'ring', 'sky', 'grass', 'water', 'sand']


def toy_text_classifier() -> dict:
    """The toy data's text class layer: the frozen MiniLM sentence encoder
    (384-d, shipped offline), the toy's 8 names (things first;
    ``TextVocabularyHook`` sets each dataset's own list), no templates, a
    CLIP-like logit scale of 100."""
    return dict(type='TextEmbeddingClassifier',
                text_encoder=dict(type='SentenceTransformerTextEncoder'),
                vocabulary=list(TOY_CLASSES), templates='none', init_temperature=0.01)


def toy_open_vocab_detector(training_classes: Sequence[str], num_things: int) -> dict:
    """``detector_changes`` that make the toy Mask2Former the open-vocabulary
    toy model (configs/open_vocab/mask2former_r18_text-minilm_toy-open-vocab.py):
    a text classifier on the frozen MiniLM encoder, trained on
    ``training_classes`` (things first, ``num_things`` of them);
    ``TextVocabularyHook`` switches to each dataset's own list."""
    return dict(num_things_classes=num_things,
                num_stuff_classes=len(training_classes) - num_things,
                panoptic_head=dict(classifier=dict(toy_text_classifier(),
                                                   vocabulary=list(training_classes))))


def no_decay(*names: str) -> dict:
    """``optim_wrapper.paramwise_cfg.custom_keys`` without weight decay for
    these parameters (a text classifier's temperature and void embedding,
    queries, positional embeddings, ...)."""
    return {name: dict(decay_mult=0.0) for name in names}
