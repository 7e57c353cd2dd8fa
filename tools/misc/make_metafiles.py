"""Write configs/<family>/metafile.yml for every config (the model zoo index
read by ``mmpanoptic.apis.list_models`` / ``get_model``).

    python tools/misc/make_metafiles.py

Configs that reproduce an mmdet 3.3 config (``mmpanoptic.testing.reference.PAIRS``)
take mmdet's released weights and reported results from the metafile that
ships in the installed mmdet package (mmdet's state dicts load strictly into
ours, tests/test_models/test_mmdet_parity.py); the bundled-data (toy) configs
carry the PQ measured here (tests/test_e2e); detectron2 layouts name their
converter.  Rerun after adding a config; tests/test_apis/test_model_zoo.py
checks the files against mmdet's metafiles.
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
}
# Measured on the bundled data (400 train / 50 val toy images, seed 0, 2 CPU cores).
TOY_PQ = {
    'configs/panoptic_fpn/panoptic-fpn_r18_fpn_toy.py': 86.7,
    'configs/mask2former/mask2former_r18_toy.py': 80.5,
    'configs/maskformer/maskformer_r18_toy.py': 69.6,
    'configs/knet/knet-s3_r18_fpn_toy.py': 73.72,
    'configs/knet/knet-s3_r18_fpn_softmax_toy.py': 73.44,
    'configs/panoptic_deeplab/panoptic-deeplab_r18_toy.py': 85.3,
    'configs/upsnet/upsnet_r18_fpn_toy.py': 87.1,
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


def main():
    mmdet = mmdet_entries()
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
            elif rel in TOY_PQ:
                entry['Results'] = [dict(Task='Panoptic Segmentation',
                                         Dataset='bundled toy data', Metrics=dict(PQ=TOY_PQ[rel]))]
            if rel in CONVERTERS:
                entry['Converter'] = CONVERTERS[rel]
            models.append(entry)
        data = {'Collections': [{'Name': collection,
                                 'Paper': {'URL': url, 'Title': title} if url else
                                 {'Title': title}}],
                'Models': models}
        out = osp.join(ROOT, 'configs', family, 'metafile.yml')
        with open(out, 'w') as f:
            f.write('# Written by tools/misc/make_metafiles.py; rerun it after adding a config.\n')
            yaml.safe_dump(data, f, sort_keys=False, width=100)
        print(f'{out}: {len(models)} models')


if __name__ == '__main__':
    main()
