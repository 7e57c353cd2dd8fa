"""Write configs/<family>/metafile.yml for every config (the model zoo index
read by ``mmpanoptic.apis.list_models`` / ``get_model``).

    python tools/misc/make_metafiles.py

Configs that reproduce an mmdet 3.3 config (``mmpanoptic.testing.reference.PAIRS``)
take mmdet's released weights and reported results from the metafile that
ships in the installed mmdet package (mmdet's state dicts load strictly into
ours, tests/test_models/test_mmdet_parity.py); the bundled-data (toy) configs
carry the figures the slow tier measured here (docs/results/*.json, written by
tests/test_e2e); detectron2 layouts name their converter.  Rerun after adding a
config or a results file; tests/test_apis/test_model_zoo.py checks the files
against mmdet's metafiles, ``tools/misc/make_results_tables.py --check``
against the results files.
"""
import glob
import os.path as osp
import sys

import yaml

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, ROOT)

COLLECTIONS = {
    'mask2former': ('Mask2Former', 'https://arxiv.org/abs/2112.01527',
                    'Masked-attention Mask Transformer for Universal Image Segmentation'),
    'maskformer': ('MaskFormer', 'https://arxiv.org/abs/2107.06278',
                   'Per-Pixel Classification is Not All You Need for Semantic Segmentation'),
    'knet': ('K-Net', 'https://arxiv.org/abs/2106.14855',
             'K-Net: Towards Unified Image Segmentation'),
    'panoptic_fpn': ('PanopticFPN', 'https://arxiv.org/abs/1901.02446',
                     'Panoptic Feature Pyramid Networks'),
    'upsnet': ('UPSNet', 'https://arxiv.org/abs/1901.03784',
               'UPSNet: A Unified Panoptic Segmentation Network'),
    'panoptic_deeplab': ('Panoptic-DeepLab', 'https://arxiv.org/abs/1911.10194',
                         'Panoptic-DeepLab: A Simple, Strong, and Fast Baseline for Bottom-Up '
                         'Panoptic Segmentation'),
    'open_vocab': ('FC-CLIP', 'https://arxiv.org/abs/2308.02487',
                   'Convolutions Die Hard: Open-Vocabulary Segmentation with Single Frozen '
                   'Convolutional CLIP'),
    'video': ('VideoPanoptic', None, 'An image model plus a tracker'),
    'eomt': ('EoMT', 'https://arxiv.org/abs/2503.19108',
             'Your ViT is Secretly an Image Segmentation Model'),
    'detr': ('DETR', 'https://arxiv.org/abs/2005.12872',
             'End-to-End Object Detection with Transformers'),
}
# Bundled-data configs -> (results file, figure path, metric name): the slow
# tier's measurement (docs/results/<file>.json, seed 0).
TOY_RESULTS = {
    'configs/panoptic_fpn/panoptic-fpn_r18_fpn_toy.py': ('toy_panoptic_fpn', 'test', 'PQ'),
    'configs/mask2former/mask2former_r18_toy.py': ('toy_mask2former', 'test', 'PQ'),
    'configs/maskformer/maskformer_r18_toy.py': ('toy_maskformer', 'test', 'PQ'),
    'configs/knet/knet-s3_r18_fpn_toy.py': ('toy_knet', 'test', 'PQ'),
    'configs/panoptic_deeplab/panoptic-deeplab_r18_toy.py': ('toy_panoptic_deeplab', 'test',
                                                             'PQ'),
    'configs/upsnet/upsnet_r18_fpn_toy.py': ('toy_upsnet', 'test', 'PQ'),
    'configs/open_vocab/mask2former_r18_text-minilm_toy-open-vocab.py': ('toy_open_vocab',
                                                                         'test', 'PQ'),
    'configs/video/mask2former_r18_online-tracker_toy-video.py': ('toy_video', 'tracker',
                                                                  'VPQ'),
    'configs/eomt/eomt_vit-t_toy.py': ('toy_eomt', 'test', 'PQ'),
    'configs/detr/detr_r18_toy.py': ('toy_detr', 'test', 'PQ'),
    'configs/video/videomt_vit-t_toy-video.py': ('toy_videomt', 'test', 'VPQ'),
}
CONVERTERS = {
    'configs/panoptic_deeplab/panoptic-deeplab_r52-dsconv_os16_200k_coco-panoptic.py':
    'tools/model_converters/panoptic_deeplab_d2_to_mmpanoptic.py',
}


def dataset_of(name: str) -> str:
    for key, value in (('coco-panoptic', 'COCO panoptic'), ('ade20k', 'ADE20K panoptic'),
                       ('cityscapes-vps', 'Cityscapes-VPS'), ('cityscapes', 'Cityscapes'),
                       ('mapillary', 'Mapillary Vistas'), ('vipseg', 'VIPSeg'),
                       ('kitti-step', 'KITTI-STEP'), ('toy-video', 'bundled toy videos'),
                       ('toy-open-vocab', 'bundled toy data (open vocabulary)'),
                       ('toy', 'bundled toy data')):
        if key in name:
            return value
    return 'unknown'


def mmdet_entries():
    """our config path -> mmdet's metafile entry for the config it reproduces."""
    import mmdet

    from mmpanoptic.testing.reference import PAIRS
    root = osp.join(osp.dirname(mmdet.__file__), '.mim')
    by_config = {}
    for path in glob.glob(osp.join(root, 'configs', '*', 'metafile.yml')):
        data = yaml.safe_load(open(path))
        for m in data.get('Models', []) if isinstance(data, dict) else []:
            by_config[m['Config']] = m
    return {ours: by_config.get('configs/' + theirs) for theirs, ours in PAIRS.values()}


def toy_metrics(rel, records):
    """``{metric: value}`` of a bundled-data config from its results file, or None."""
    if rel not in TOY_RESULTS or TOY_RESULTS[rel][0] not in records:
        return None
    name, part, metric = TOY_RESULTS[rel]
    figures = records[name]['figures'][part]
    key = next(k for k in figures if k.split('/')[-1] == metric)
    return {metric: round(figures[key], 2)}


def render_all(records):
    """``{metafile path: text}`` for every family (nothing written)."""
    mmdet = mmdet_entries()
    out_files = {}
    for family, (collection, url, title) in COLLECTIONS.items():
        configs = sorted(glob.glob(osp.join(ROOT, 'configs', family, '*.py')))
        if family == 'mask2former':
            configs.append(osp.join(ROOT, 'configs', 'mask2former_swin-l_coco-panoptic.py'))
        models = []
        for path in configs:
            rel = osp.relpath(path, ROOT)
            name = osp.splitext(osp.basename(path))[0]
            entry = {'Name': name, 'In Collection': collection, 'Config': rel,
                     'Metadata': {'Dataset': dataset_of(name)}}
            ref = mmdet.get(rel)
            if ref:
                entry['Results'] = ref['Results']
                entry['Weights'] = ref['Weights']
                entry['Weights Source'] = f'mmdet 3.3 release of {ref["Name"]} (loads strictly)'
            elif toy_metrics(rel, records):
                entry['Results'] = [dict(
                    Task='Video Panoptic Segmentation' if family == 'video' else
                    'Panoptic Segmentation', Dataset=dataset_of(name),
                    Metrics=toy_metrics(rel, records),
                    Measured=f'docs/results/{TOY_RESULTS[rel][0]}.json')]
            if rel in CONVERTERS:
                entry['Converter'] = CONVERTERS[rel]
            models.append(entry)
        data = {'Collections': [{'Name': collection,
                                 'Paper': {'URL': url, 'Title': title} if url else
                                 {'Title': title}}],
                'Models': models}
        out = osp.join(ROOT, 'configs', family, 'metafile.yml')
        out_files[out] = ('# Written by tools/misc/make_metafiles.py; rerun it after adding a '
                          'config.\n' + yaml.safe_dump(data, sort_keys=False, width=100))
    return out_files


def main():
    from mmpanoptic.testing.results import read_results
    for out, text in render_all(read_results()).items():
        with open(out, 'w') as f:
            f.write(text)
        print(f'{out}: {text.count("- Name:") - 1} models')


if __name__ == '__main__':
    main()
