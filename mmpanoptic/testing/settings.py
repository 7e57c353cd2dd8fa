"""Every result-changing setting of a config, in one vocabulary for mmdet's
configs and ours.

mmdet keeps losses, matcher costs and inference thresholds inside the head's
``loss_*``, ``train_cfg`` and ``test_cfg``; our models keep them in
``criterion`` and ``fusion``.  :func:`mmdet_settings` and :func:`our_settings`
read a resolved config of each kind into the same flat dict (``'test.iou_thr'``,
``'loss.no_object_weight'``, ``'data.train.pipeline'``, ...), so a test can
list every setting that differs.  The network itself (depths, widths,
dropout) is compared here too; that the weights fit and compute the same is
checked by loading mmdet's state dict strictly and predicting.

A config that departs from mmdet on purpose says so in a top-level
``reference_differences = dict(setting=reason)``; the parity test requires
that the differing settings are exactly the ones listed there.
"""
import copy
import inspect
from typing import Any, Dict, List, Optional

from mmengine.config import Config

# Keys that only decide where files are or how fast they load.
_IO_KEYS = ('backend_args', 'num_workers', 'persistent_workers', 'data_root', 'ann_file',
            'data_prefix', 'pin_memory')


def normalize(value: Any) -> Any:
    """Plain Python, ``type`` without its registry scope (``mmdet.X`` -> ``X``),
    tuples as lists, I/O-only keys and ``_scope_`` dropped."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key in _IO_KEYS or key == '_scope_':
                continue
            if key == 'type' and isinstance(item, str):
                item = item.split('.')[-1]
            out[key] = normalize(item)
        return out
    if isinstance(value, (list, tuple)):
        return [normalize(v) for v in value]
    return value


def with_defaults(cfg: dict) -> dict:
    """A module config with its class's constructor defaults filled in, so
    ``dict(type='SwinTransformer', qk_scale=None)`` equals one that leaves
    ``qk_scale`` out.  Types are looked up in mmdet's registry (scoped
    names in their own); an unknown type is returned as it is."""
    from mmdet.registry import MODELS
    cfg = normalize(cfg)
    try:
        cls = MODELS.get(cfg['type'])
    except Exception:  # noqa: BLE001 - a registry that cannot resolve the name
        cls = None
    if cls is None:
        return cfg
    full = {name: p.default for name, p in inspect.signature(cls.__init__).parameters.items()
            if p.default is not inspect.Parameter.empty and name != 'init_cfg'}
    full.update(cfg)
    return normalize(full)


def _pipeline(steps: List[dict], test: bool = False) -> List[dict]:
    """Transforms with the packers and annotation loaders named alike."""
    out = []
    for step in normalize(steps):
        step = dict(step)
        if step['type'] in ('PackDetInputs', 'PackPanopticInputs'):
            step['type'] = 'Pack'
        if step['type'] == 'LoadPanopticAnnotations':
            # mmdet loads boxes, masks and the semantic map by default, as we
            # do; with_panoptic (ours) keeps the id map for the metric.  At
            # test time these flags only decide what the metric reads.
            step = {k: v for k, v in step.items()
                    if not (k.startswith('with_') and (test or v is True))}
        out.append(step)
    return out


def _data(cfg: Config) -> Dict[str, Any]:
    train = normalize(cfg.train_dataloader)
    test = normalize(cfg.test_dataloader)
    return {
        'data.train.batch_size': train.get('batch_size'),
        'data.train.sampler': train.get('sampler'),
        'data.train.batch_sampler': train.get('batch_sampler'),
        'data.train.filter_cfg': train['dataset'].get('filter_cfg'),
        'data.train.pipeline': _pipeline(train['dataset']['pipeline']),
        'data.test.batch_size': test.get('batch_size'),
        'data.test.pipeline': _pipeline(test['dataset']['pipeline'], test=True),
    }


def _schedule(cfg: Config) -> Dict[str, Any]:
    train_cfg = normalize(cfg.train_cfg)
    return {
        'optim_wrapper': normalize(cfg.optim_wrapper),
        'param_scheduler': normalize(cfg.param_scheduler),
        'train_cfg': train_cfg,
        'auto_scale_lr': normalize(cfg.get('auto_scale_lr')),
        'evaluator': sorted(e['type'] for e in _as_list(normalize(cfg.test_evaluator))),
    }


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def _preprocessor(model: dict) -> dict:
    pre = normalize(model['data_preprocessor'])
    pre.pop('type')
    return pre


def _mask_loss(loss: dict) -> Dict[str, Any]:
    """('bce' | 'focal', weight) from mmdet's loss_mask."""
    if loss['type'] == 'FocalLoss':
        return dict(kind='focal', weight=loss['loss_weight'], gamma=loss.get('gamma', 2.0),
                    alpha=loss.get('alpha', 0.25))
    if loss['type'] == 'CrossEntropyLoss' and loss.get('use_sigmoid'):
        return dict(kind='bce', weight=loss['loss_weight'])
    raise ValueError(f'unknown mask loss {loss}')


def mmdet_settings(cfg: Config) -> Dict[str, Any]:
    """Settings of an mmdet MaskFormer / Mask2Former / PanopticFPN config."""
    model = normalize(cfg.model)
    out = {'model.type': model['type'], 'data_preprocessor': _preprocessor(model),
           'backbone': with_defaults(model['backbone'])}
    if model['type'] in ('MaskFormer', 'Mask2Former'):
        head = model['panoptic_head']
        test = model.get('test_cfg') or {}
        train = model.get('train_cfg') or {}
        class_weight = head['loss_cls'].get('class_weight')
        costs = {c['type']: c for c in train['assigner']['match_costs']}
        mask_cost = costs.get('CrossEntropyLossCost') or costs.get('FocalLossCost')
        out.update({
            'classes': (head['num_things_classes'], head['num_stuff_classes']),
            'head': _head_view(head),
            'loss.cls_weight': head['loss_cls']['loss_weight'],
            'loss.no_object_weight': class_weight[-1],
            'loss.other_class_weights': sorted(set(class_weight[:-1])),
            'loss.mask': _mask_loss(head['loss_mask']),
            'loss.dice': dict(weight=head['loss_dice']['loss_weight'],
                              eps=head['loss_dice'].get('eps', 1e-3),
                              naive=head['loss_dice'].get('naive_dice', True)),
            'matcher': dict(cost_class=costs['ClassificationCost']['weight'],
                            cost_mask=mask_cost['weight'],
                            mask_cost='bce' if 'CrossEntropyLossCost' in costs else 'focal',
                            cost_dice=costs['DiceCost']['weight']),
            'points': dict(num_points=train.get('num_points'),
                           oversample_ratio=train.get('oversample_ratio'),
                           importance_sample_ratio=train.get('importance_sample_ratio')),
            'test': _mask_classification_inference(test),
        })
    else:  # PanopticFPN
        fusion = model['panoptic_fusion_head']
        panoptic = model['test_cfg'].get('panoptic', {})
        out.update({
            'classes': (fusion['num_things_classes'], fusion['num_stuff_classes']),
            'neck': model['neck'], 'rpn_head': model['rpn_head'], 'roi_head': model['roi_head'],
            'semantic_head': model['semantic_head'], 'model.train_cfg': model['train_cfg'],
            'test.rpn': model['test_cfg']['rpn'], 'test.rcnn': model['test_cfg']['rcnn'],
            'test.fusion': dict(score_thr=model['test_cfg']['rcnn']['score_thr'],
                                overlap_thr=panoptic.get('mask_overlap', 0.5),
                                stuff_area_limit=panoptic.get('stuff_area_limit', 4096)),
        })
    out.update(_data(cfg))
    out.update(_schedule(cfg))
    return out


# Inference settings of mask classification and their defaults, the same in
# mmdet's MaskFormerFusionHead (test_cfg) and our MaskClassificationFusion.
_INFERENCE_DEFAULTS = dict(panoptic_on=True, semantic_on=False, instance_on=False,
                           max_per_image=100, object_mask_thr=0.8, iou_thr=0.8,
                           filter_low_score=False)


def _mask_classification_inference(cfg: dict) -> dict:
    """mmdet's ``test_cfg`` or our ``fusion`` config, defaults filled in."""
    return {key: cfg.get(key, default) for key, default in _INFERENCE_DEFAULTS.items()}


def _head_view(head: dict) -> dict:
    """The network part of a query head (no losses, no class counts)."""
    view = {k: v for k, v in head.items()
            if k not in ('type', 'loss_cls', 'loss_mask', 'loss_dice', 'num_things_classes',
                         'num_stuff_classes', 'num_classes', 'strides', 'init_cfg')}
    view['pixel_decoder'] = {k: v for k, v in view['pixel_decoder'].items() if k != 'strides'}
    view['transformer_decoder'] = {k: v for k, v in view['transformer_decoder'].items()
                                   if k not in ('type', 'init_cfg')}
    view.setdefault('enforce_decoder_input_project', False)
    return view


def our_settings(cfg: Config) -> Dict[str, Any]:
    """Settings of an mmpanoptic config, in :func:`mmdet_settings`' vocabulary."""
    model = normalize(cfg.model)
    out = {'model.type': model['type'], 'data_preprocessor': _preprocessor(model),
           'backbone': with_defaults(model['backbone'])}
    if model['type'] in ('MaskFormer', 'Mask2Former'):
        crit, fusion = model['criterion'], model['fusion']
        matcher = crit['matcher']
        mask = (dict(kind='focal', weight=crit['loss_mask_weight'], gamma=2.0, alpha=0.25)
                if crit.get('mask_loss') == 'focal' else
                dict(kind='bce', weight=crit['loss_mask_weight']))
        points = (dict(num_points=None, oversample_ratio=None, importance_sample_ratio=None)
                  if crit.get('num_points') is None else
                  dict(num_points=crit['num_points'], oversample_ratio=crit['oversample_ratio'],
                       importance_sample_ratio=crit['importance_sample_ratio']))
        out.update({
            'classes': (model['num_things_classes'], model['num_stuff_classes']),
            'head': _head_view(model['panoptic_head']),
            'loss.cls_weight': crit['loss_cls_weight'],
            'loss.no_object_weight': crit['no_object_weight'],
            'loss.other_class_weights': [1.0],
            'loss.mask': mask,
            # Our dice loss is the naive dice with eps 1 (Mask2Former's).
            'loss.dice': dict(weight=crit['loss_dice_weight'], eps=1.0, naive=True),
            'matcher': dict(cost_class=matcher['cost_class'], cost_mask=matcher['cost_mask'],
                            mask_cost=matcher.get('mask_cost', 'bce'),
                            cost_dice=matcher['cost_dice']),
            'points': points,
            'test': _mask_classification_inference(fusion),
        })
    else:  # PanopticFPN
        fusion = model['fusion']
        rcnn = model['test_cfg']['rcnn']
        semantic = dict(model['semantic_head'])
        out.update({
            'classes': (semantic['num_things_classes'], semantic['num_stuff_classes']),
            'neck': model['neck'], 'rpn_head': model['rpn_head'], 'roi_head': model['roi_head'],
            'semantic_head': semantic, 'model.train_cfg': model['train_cfg'],
            'test.rpn': model['test_cfg']['rpn'], 'test.rcnn': rcnn,
            'test.fusion': dict(score_thr=max(rcnn['score_thr'], fusion.get('score_thr', 0.0)),
                                overlap_thr=fusion.get('overlap_thr', 0.5),
                                stuff_area_limit=fusion.get('stuff_area_limit', 4096)),
        })
    out.update(_data(cfg))
    out.update(_schedule(cfg))
    return out


def differences(theirs: Dict[str, Any], ours: Dict[str, Any],
                ignore: Optional[List[str]] = None) -> Dict[str, tuple]:
    """``{setting: (mmdet's value, ours)}`` for every setting that differs."""
    ignore = set(ignore or ())
    out = {}
    for key in sorted(set(theirs) | set(ours)):
        if key in ignore:
            continue
        a, b = copy.deepcopy(theirs.get(key)), copy.deepcopy(ours.get(key))
        if a != b:
            out[key] = (a, b)
    return out
