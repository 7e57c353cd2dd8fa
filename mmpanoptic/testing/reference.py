"""Build mmdet's own models from mmdet's own config files, next to ours.

Parity tests and ``benchmarks/`` compare an mmpanoptic config with the mmdet
3.3 config it reproduces: both are built from their files (mmdet's ship inside
the installed package under ``mmdet/.mim/configs``), mmdet's state dict is
loaded *strictly* into ours, and both predict on the same batch.  Nothing here
transcribes mmdet: the reference is mmdet itself.

>>> sorted(PAIRS)[:2]
['mask2former_r101', 'mask2former_r50']
"""
import copy
import os.path as osp
from typing import Dict, List, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.config import Config
from torch import Tensor, nn

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

# name -> (mmdet config relative to mmdet/.mim/configs, our config relative to the repo)
PAIRS: Dict[str, Tuple[str, str]] = {
    'mask2former_r50': ('mask2former/mask2former_r50_8xb2-lsj-50e_coco-panoptic.py',
                        'configs/mask2former/mask2former_r50_lsj-50e_coco-panoptic.py'),
    'mask2former_r101': ('mask2former/mask2former_r101_8xb2-lsj-50e_coco-panoptic.py',
                         'configs/mask2former/mask2former_r101_lsj-50e_coco-panoptic.py'),
    'mask2former_swin-t': ('mask2former/mask2former_swin-t-p4-w7-224_8xb2-lsj-50e_'
                           'coco-panoptic.py',
                           'configs/mask2former/mask2former_swin-t_lsj-50e_coco-panoptic.py'),
    'mask2former_swin-s': ('mask2former/mask2former_swin-s-p4-w7-224_8xb2-lsj-50e_'
                           'coco-panoptic.py',
                           'configs/mask2former/mask2former_swin-s_lsj-50e_coco-panoptic.py'),
    'mask2former_swin-b': ('mask2former/mask2former_swin-b-p4-w12-384_8xb2-lsj-50e_'
                           'coco-panoptic.py',
                           'configs/mask2former/mask2former_swin-b_lsj-50e_coco-panoptic.py'),
    'mask2former_swin-l': ('mask2former/mask2former_swin-l-p4-w12-384-in21k_16xb1-lsj-100e_'
                           'coco-panoptic.py',
                           'configs/mask2former_swin-l_coco-panoptic.py'),
    'maskformer_r50': ('maskformer/maskformer_r50_ms-16xb1-75e_coco.py',
                       'configs/maskformer/maskformer_r50_ms-75e_coco-panoptic.py'),
    'maskformer_swin-l': ('maskformer/maskformer_swin-l-p4-w12_64xb1-ms-300e_coco.py',
                          'configs/maskformer/maskformer_swin-l_ms-300e_coco-panoptic.py'),
    'panoptic-fpn_r50_1x': ('panoptic_fpn/panoptic-fpn_r50_fpn_1x_coco.py',
                            'configs/panoptic_fpn/panoptic-fpn_r50_fpn_1x_coco-panoptic.py'),
    'panoptic-fpn_r50_ms-3x': ('panoptic_fpn/panoptic-fpn_r50_fpn_ms-3x_coco.py',
                               'configs/panoptic_fpn/panoptic-fpn_r50_fpn_ms-3x_coco-panoptic.py'),
    'panoptic-fpn_r101_1x': ('panoptic_fpn/panoptic-fpn_r101_fpn_1x_coco.py',
                             'configs/panoptic_fpn/panoptic-fpn_r101_fpn_1x_coco-panoptic.py'),
}


def mmdet_config_dir() -> str:
    """``configs/`` of the installed mmdet package (``mmdet/.mim/configs``)."""
    import mmdet
    path = osp.join(osp.dirname(mmdet.__file__), '.mim', 'configs')
    if not osp.isdir(path):
        raise FileNotFoundError(f'mmdet {mmdet.__version__} at {osp.dirname(mmdet.__file__)} '
                                f'ships no configs (expected {path}); install mmdet from '
                                f'its PyPI wheel')
    return path


def load_pair(name: str) -> Tuple[Config, Config]:
    """(mmdet's config, our config) of a pair in :data:`PAIRS`."""
    theirs, ours = PAIRS[name]
    return (Config.fromfile(osp.join(mmdet_config_dir(), theirs)),
            Config.fromfile(osp.join(ROOT, ours)))


def _drop_pretrained(model_cfg) -> None:
    """No downloads: the backbones start from random weights."""
    model_cfg.backbone.pop('init_cfg', None)


def build_mmdet_model(cfg: Config) -> nn.Module:
    """mmdet's model from mmdet's config, initialized, in eval mode."""
    from mmdet.registry import MODELS as MMDET_MODELS
    from mmdet.utils import register_all_modules
    from mmengine.registry import DefaultScope
    register_all_modules(init_default_scope=False)
    model_cfg = copy.deepcopy(cfg.model)
    _drop_pretrained(model_cfg)
    with DefaultScope.overwrite_default_scope('mmdet'):  # mmdet's names, not ours
        model = MMDET_MODELS.build(model_cfg)
    model.init_weights()
    return model.eval()


def build_our_model(cfg: Config) -> nn.Module:
    """Our model from our config, in eval mode (weights come from mmdet's)."""
    from mmengine.registry import DefaultScope

    from mmpanoptic.registry import MODELS
    from mmpanoptic.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    model_cfg = copy.deepcopy(cfg.model)
    _drop_pretrained(model_cfg)
    with DefaultScope.overwrite_default_scope('mmpanoptic'):
        return MODELS.build(model_cfg).eval()


def decisive_query_head(model: nn.Module, data: dict, *, pos_scale: float = 10.0,
                        cls_scale: float = 40.0, fg_fraction: float = 0.03,
                        num_confident: int = 60, rounds: int = 3) -> None:
    """Make a randomly initialized MaskFormer / Mask2Former behave like a
    trained one on ``data``: distinct queries, sharp masks, confident classes.

    Random weights give near-identical queries (every query predicts the
    same class and a mask over half the image), so the fusion would drop
    them all and two empty maps would be compared.  Forward passes on
    ``data`` measure the queries and mask features, then:

    - the query positions are scaled (queries attend differently);
    - the output norm removes what all queries share and scales what is
      left to unit spread (so does the mask embedding's bias);
    - the mask features are centred per channel and channel 0 is made a
      constant 1 whose mask-embedding weight shifts every mask logit so that
      about ``fg_fraction`` of the pixels are foreground;
    - the class layer is scaled and its "no object" bias raised so that
      about ``num_confident`` queries pass ``object_mask_thr``.

    The backbone and pixel-decoder encoder run once; the ``rounds`` passes
    after it re-run only the transformer decoder (the masks steer its
    attention, so the statistics move until they settle).  Only parameters
    change: load the result into the other model.
    """
    head = model.panoptic_head
    conv = head.pixel_decoder.mask_feature
    norm = head.transformer_decoder.post_norm
    last = head.mask_embed[-1]
    captured = {}
    hooks = [
        conv.register_forward_hook(lambda m, i, o: captured.update(conv_in=i[0])),
        head.pixel_decoder.register_forward_hook(lambda m, i, o: captured.update(decoded=o)),
        norm.register_forward_hook(lambda m, i, o: captured.update(queries=i[0])),
    ]
    batch = model.data_preprocessor(copy.deepcopy(data), False)
    metas = [s.metainfo for s in batch['data_samples']]
    with torch.no_grad():
        head.query_embed.weight.mul_(pos_scale)
        feats = model.extract_feat(batch['inputs'])  # the backbone runs once
        head(feats, metas)
        cached_pd = head.pixel_decoder.forward
        head.pixel_decoder.forward = lambda *args, **kwargs: (conv(captured['conv_in']),
                                                              captured['decoded'][1])
        try:
            for r in range(rounds + 1):
                if r:
                    head(feats, metas)
                queries = captured['queries'].reshape(-1, norm.normalized_shape[0])
                if r < rounds:
                    conv.bias.sub_(conv(captured['conv_in']).mean((0, 2, 3)))
                    conv.weight[0] = 0
                    conv.bias[0] = 1
                    unit = F.layer_norm(queries, norm.normalized_shape)
                    spread = (unit - unit.mean(0)).std().clamp(min=1e-6)
                    norm.weight.copy_(torch.ones_like(norm.weight) / spread)
                    norm.bias.copy_(-norm.weight * unit.mean(0))
                    last.bias.sub_(head.mask_embed(norm(queries)).mean(0))
                    last.weight[0] = 0
                    last.bias[0] = 0
                    embed = head.mask_embed(norm(queries))
                    logits = embed @ conv(captured['conv_in'])[0].flatten(1)
                    sample = logits.flatten()[torch.randperm(logits.numel())[:200000]]
                    last.bias[0] = -float(sample.quantile(1 - fg_fraction))
            for p in head.cls_embed.parameters():
                p.mul_(cls_scale)
            cls = head.cls_embed(norm(queries))
            margin = cls[:, :-1].max(-1).values - cls[:, -1]
            k = min(num_confident, len(margin))
            head.cls_embed.bias[-1] += float(margin.topk(k).values[-1]) - 3.0
        finally:
            head.pixel_decoder.forward = cached_pd
            for hook in hooks:
                hook.remove()


def decisive_box_head(model: nn.Module, data: dict, *, num_confident: int = 150,
                      cls_scale: float = 8.0) -> None:
    """Panoptic FPN's counterpart of :func:`decisive_query_head`: the box
    classifier of random weights scores every proposal about 1/81, so no
    box passes ``score_thr``.  One pass measures the classifier's input over
    the proposals; its common part is removed, what is left scaled to
    ``cls_scale`` logits, and the background bias raised so that about
    ``num_confident`` proposals score a thing class above the background.
    """
    fc = model.roi_head.bbox_head.fc_cls
    captured = {}
    hook = fc.register_forward_hook(lambda m, i, o: captured.update(x=i[0]))
    try:
        with torch.no_grad():
            model.test_step(copy.deepcopy(data))
    finally:
        hook.remove()
    with torch.no_grad():
        x = captured['x']
        centred = x - x.mean(0)
        fc.weight.mul_(cls_scale / (centred @ fc.weight.t()).std().clamp(min=1e-6))
        fc.bias.copy_(-fc.weight @ x.mean(0))
        logits = F.linear(x, fc.weight, fc.bias)
        margin = logits[:, :-1].max(-1).values - logits[:, -1]
        k = min(num_confident, len(margin))
        fc.bias[-1] += float(margin.topk(k).values[-1]) - 2.0


def paired_models(name: str, data: dict) -> Tuple[nn.Module, nn.Module, int]:
    """mmdet's model and ours for a pair of :data:`PAIRS`, with the same
    trained-like weights on ``data``: mmdet's initialization, loaded strictly
    into ours, adjusted there (:func:`decisive_query_head` /
    :func:`decisive_box_head`) and loaded back strictly into mmdet's.

    Returns ``(theirs, ours, num_classes)``.
    """
    theirs_cfg, ours_cfg = load_pair(name)
    theirs, ours = build_mmdet_model(theirs_cfg), build_our_model(ours_cfg)
    strict_load(ours, theirs.state_dict())
    (decisive_query_head if hasattr(ours, 'criterion') else decisive_box_head)(ours, data)
    theirs.load_state_dict(ours.state_dict(), strict=True)
    counts = ours_cfg.model if 'num_things_classes' in ours_cfg.model \
        else ours_cfg.model.semantic_head
    return theirs, ours, counts.num_things_classes + counts.num_stuff_classes


def realistic_image(height: int = 480, width: int = 640, seed: int = 0) -> np.ndarray:
    """(H, W, 3) uint8 BGR image with regions and edges (smooth noise
    upsampled from a coarse grid plus a few flat rectangles), COCO-sized."""
    import cv2
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, (height // 40 + 1, width // 40 + 1, 3)).astype(np.uint8)
    img = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
    for _ in range(6):
        y0, x0 = rng.integers(0, height - 60), rng.integers(0, width - 60)
        h, w = rng.integers(40, height // 2), rng.integers(40, width // 2)
        img[y0:y0 + h, x0:x0 + w] = rng.integers(0, 256, 3)
    return img


def packed_test_inputs(img: np.ndarray, scale: Tuple[int, int] = (1333, 800)) -> dict:
    """One image through mmdet's test-time ``Resize(scale, keep_ratio=True)``
    and ``PackDetInputs``, as the data preprocessor receives it."""
    from mmdet.datasets.transforms import PackDetInputs, Resize
    results = dict(img=img, img_shape=img.shape[:2], ori_shape=img.shape[:2], img_id=0,
                   img_path='realistic.jpg')
    results = Resize(scale=scale, keep_ratio=True)(results)
    packed = PackDetInputs(meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                                      'scale_factor'))(results)
    return dict(inputs=[packed['inputs']], data_samples=[packed['data_samples']])


def mmdet_roi_instances(model: nn.Module, data: dict):
    """The instances mmdet's two-stage panoptic model computes before its
    panoptic fusion head (RPN, then ``roi_head.predict`` with rescaling, as
    mmdet's ``TwoStagePanopticSegmentor.predict`` does), one
    ``InstanceData`` per image.  mmdet's Panoptic FPN returns only the fused
    panoptic map, so this is where its instances can be compared."""
    with torch.no_grad():
        batch = model.data_preprocessor(copy.deepcopy(data), False)
        x = model.extract_feat(batch['inputs'])
        proposals = model.rpn_head.predict(x, batch['data_samples'], rescale=False)
        return model.roi_head.predict(x, proposals, batch['data_samples'], rescale=True)


def predict(model: nn.Module, data: dict):
    """``model.test_step`` on a copy of ``data`` (preprocessing included)."""
    with torch.no_grad():
        return model.test_step(copy.deepcopy(data))


def panoptic_disagreement(ids: Tensor, segments_info: Sequence[dict], ref_pan: Tensor, *,
                          num_classes: int, instance_offset: int = 1000) -> List[str]:
    """Differences between our panoptic result and mmdet's, as messages.

    Ours: ``ids`` (H, W) segment ids (0 = VOID) + ``segments_info``.  mmdet's:
    ``ref_pan`` (H, W) ``label + instance * instance_offset`` with VOID =
    ``num_classes``.  Equal when the two maps induce the same partition of the
    pixels (each of our segments is exactly one of theirs) with the same label
    per segment and the same VOID pixels; the ids themselves may differ.
    """
    ours = ids.cpu().numpy().astype(np.int64).ravel()
    ref = ref_pan.cpu().numpy().astype(np.int64).ravel()
    if ours.shape != ref.shape:
        return [f'shapes differ: {tuple(ids.shape)} vs {tuple(ref_pan.shape)}']
    label_of = {s['id']: s['label'] for s in segments_info}
    pairs, counts = np.unique(np.stack([ours, ref]), axis=1, return_counts=True)
    problems = []
    for side, values in (('ours', pairs[0]), ('mmdet', pairs[1])):
        uniq, n = np.unique(values, return_counts=True)
        for v in uniq[n > 1]:
            problems.append(f'{side} segment {v} is split across the other map')
    for (o, r), c in zip(pairs.T, counts):
        ref_void = r % instance_offset == num_classes
        if o == 0 and not ref_void:
            problems.append(f'{c} px VOID here, mmdet segment {r}')
        elif o != 0 and ref_void:
            problems.append(f'{c} px of segment {o} are VOID in mmdet')
        elif o != 0 and label_of[int(o)] != r % instance_offset:
            problems.append(f'segment {o}: label {label_of[int(o)]} vs mmdet '
                            f'{r % instance_offset}')
    return problems


def segment_count(ids: Tensor) -> int:
    """Number of non-VOID segments in an id map."""
    return int((torch.unique(ids) > 0).sum())


def mmdet_void_fraction(ref_pan: Tensor, num_classes: int,
                        instance_offset: int = 1000) -> float:
    """Share of pixels mmdet leaves VOID."""
    return float((ref_pan % instance_offset == num_classes).float().mean())


def strict_load(ours: nn.Module, state: Dict[str, Tensor]) -> None:
    """``load_state_dict(strict=True)`` that names what differs."""
    result = ours.load_state_dict(state, strict=False)
    if result.missing_keys or result.unexpected_keys:
        raise KeyError(f'missing {result.missing_keys[:10]} unexpected '
                       f'{result.unexpected_keys[:10]}')

