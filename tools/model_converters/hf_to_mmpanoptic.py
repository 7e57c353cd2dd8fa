"""Convert a Hugging Face panoptic checkpoint folder into an mmpanoptic config
and weights.

    python tools/model_converters/hf_to_mmpanoptic.py HF_DIR OUT_DIR \\
        [--things NAMES_OR_IDS] [--threshold T] [--mask-threshold M] \\
        [--overlap-mask-area-threshold O] [--fuse-stuff]

HF_DIR is a ``save_pretrained`` folder (``config.json``, ``model.safetensors``
or ``pytorch_model.bin``, ``preprocessor_config.json``) of
``EomtForUniversalSegmentation``, ``EomtDinov3ForUniversalSegmentation``,
``Mask2FormerForUniversalSegmentation``, ``MaskFormerForInstanceSegmentation``,
``DetrForSegmentation`` or ``VideomtForUniversalSegmentation``.  OUT_DIR gets
``config.py`` (the model in mmpanoptic's family, the processor's resize /
padding / normalisation as the test pipeline, the class names from
``id2label`` with things first, transformers' panoptic post-processing as the
fusion) and ``weights.pth``; then

    python tools/test.py OUT_DIR/config.py OUT_DIR/weights.pth
    python tools/demo/image_demo.py IMAGE OUT_DIR/config.py OUT_DIR/weights.pth
    PanopticInferencer('OUT_DIR/config.py', 'OUT_DIR/weights.pth')

Things and stuff come from the bundled vocabulary with the same class names,
or from ``--things`` (names, label ids or ``a-b`` ranges).  The thresholds
are those of transformers' ``post_process_panoptic_segmentation`` under the
same names (defaults: its own); ``--fuse-stuff`` merges the segments of a
stuff class, as passing the stuff ids as ``label_ids_to_fuse`` /
``stuff_classes`` does there (default: not merged, transformers' default).
"""
import argparse
import os
import os.path as osp
import sys

import torch
from mmengine.config import Config

from mmpanoptic.fileio import PanopticError
from mmpanoptic.models.checkpoints.hf_models import check_against, convert_hf_model
from mmpanoptic.registry import MODELS
from mmpanoptic.utils import register_all_modules


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('hf_dir', help='a transformers save_pretrained folder')
    p.add_argument('out_dir', help='where config.py and weights.pth go')
    p.add_argument('--things', help='thing classes: names, label ids or a-b ranges, '
                   'comma-separated (default: from the bundled vocabulary with these names)')
    p.add_argument('--threshold', type=float, help='minimum class score of a query')
    p.add_argument('--mask-threshold', type=float, help='mask probability threshold')
    p.add_argument('--overlap-mask-area-threshold', type=float,
                   help='share of its mask a query must own')
    p.add_argument('--fuse-stuff', action='store_true',
                   help='one segment per stuff class (transformers: label_ids_to_fuse)')
    return p.parse_args(argv)


def build_config(converted, args) -> Config:
    """A standalone mmpanoptic config of the converted model."""
    model = dict(converted.model)
    image_model = dict(model['detector']) if 'detector' in model else model
    fusion = dict(image_model['fusion'])
    for arg, key in (('threshold', 'object_mask_thr'), ('mask_threshold', 'mask_thr'),
                     ('overlap_mask_area_threshold', 'iou_thr')):
        value = getattr(args, arg)
        if value is not None:
            fusion[key] = value
    if args.fuse_stuff:
        fusion['merge_stuff'] = True
    image_model['fusion'] = fusion
    if 'detector' in model:  # a video model
        model['detector'] = image_model
    video = any(s.get('type') == 'PackPanopticInputs' and 'video_id' in s.get('meta_keys', ())
                for s in converted.test_pipeline)
    dataset = dict(type='VideoPanopticDataset' if video else 'CocoPanopticDataset',
                   data_root='data/coco/', ann_file='annotations/panoptic_val2017.json',
                   data_prefix=dict(img='val2017/', seg='annotations/panoptic_val2017/'),
                   test_mode=True, pipeline=converted.test_pipeline)
    loader = dict(batch_size=1, num_workers=2, persistent_workers=True, drop_last=False,
                  sampler=dict(type='VideoSampler' if video else 'DefaultSampler',
                               **({} if video else dict(shuffle=False))),
                  dataset=dataset)
    if video:
        loader.update(num_workers=0, persistent_workers=False)
    evaluator = [dict(type='VideoPanopticMetric'), dict(type='PanopticQualityMetric')] \
        if video else [dict(type='PanopticQualityMetric')]
    return Config(dict(
        default_scope='mmpanoptic',
        converted_from=dict(folder=osp.abspath(args.hf_dir),
                            architecture=converted.architecture, notes=converted.notes),
        model=model,
        test_dataloader=loader, val_dataloader=loader,
        test_evaluator=evaluator, val_evaluator=evaluator,
        test_cfg=dict(type='TestLoop'), val_cfg=dict(type='ValLoop'),
        default_hooks=dict(timer=dict(type='IterTimerHook'),
                           logger=dict(type='LoggerHook', interval=50)),
        custom_hooks=[dict(type='PanopticVisualizationHook', max_images=8)],
        env_cfg=dict(cudnn_benchmark=False,
                     mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
                     dist_cfg=dict(backend='nccl', timeout=300)),
        vis_backends=[dict(type='LocalVisBackend')],
        visualizer=dict(type='mmdet.DetLocalVisualizer', vis_backends=[
            dict(type='LocalVisBackend')], name='visualizer'),
        log_processor=dict(type='LogProcessor', window_size=50, by_epoch=False),
        log_level='INFO', load_from=None, resume=False))


def main(argv=None):
    args = parse_args(argv)
    register_all_modules()
    try:
        converted = convert_hf_model(args.hf_dir, things=args.things)
        cfg = build_config(converted, args)
        model = MODELS.build(cfg.model)
        check_against(model, converted.state_dict)
    except (PanopticError, FileNotFoundError) as e:
        sys.exit(f'error: {e}')
    model.load_state_dict(converted.state_dict, strict=True)
    os.makedirs(args.out_dir, exist_ok=True)
    cfg.dump(osp.join(args.out_dir, 'config.py'))
    n = converted.num_things
    meta = dict(classes=converted.classes, thing_classes=converted.classes[:n],
                stuff_classes=converted.classes[n:], category_ids=converted.category_ids)
    torch.save(dict(state_dict=model.state_dict(),
                    meta=dict(dataset_meta=meta, converted_from=converted.architecture)),
               osp.join(args.out_dir, 'weights.pth'))
    print(f'{converted.architecture} -> {cfg.model["type"]}: {len(converted.classes)} classes '
          f'({n} things; {"; ".join(converted.notes)}), '
          f'{len(converted.state_dict)} tensors; wrote {args.out_dir}/config.py and weights.pth')


if __name__ == '__main__':
    main()
