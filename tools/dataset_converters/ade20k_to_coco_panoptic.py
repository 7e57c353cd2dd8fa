"""ADE20K SceneParsing + instance annotations -> COCO panoptic (150 classes).

    python tools/dataset_converters/ade20k_to_coco_panoptic.py \\
        --root data/ade/ADEChallengeData2016
    # writes ade20k_panoptic_{train,val}.json and ade20k_panoptic_{train,val}/*.png
    # next to images/ (the layout configs/_base_/datasets/ade20k_panoptic.py reads)

Needs ``images/{training,validation}/*.jpg``, ``annotations/{training,
validation}/*.png`` (ADEChallengeData2016.zip) and
``annotations_instance/{training,validation}/*.png`` (the instance
annotations).  The panoptic split of Mask2Former: 150 categories (ids 0..149
= SceneParsing label - 1), 100 things (the classes the instance annotations
map to, ``--mapping categoryMapping.txt`` to read that table from the
release instead of the built-in one), 50 stuff.  Thing-class pixels without
an instance are VOID.  The result is checked by the dataset validator unless
``--no-validate``.
"""
import argparse
import os.path as osp
import sys

from mmpanoptic.datasets.converters import (
    ade20k_to_coco_panoptic,
    read_ade20k_category_mapping,
)
from mmpanoptic.fileio import PanopticError


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--root', required=True, help='the ADEChallengeData2016 folder')
    p.add_argument('--split', nargs='+', default=['train', 'val'])
    p.add_argument('--out-dir', help='default: --root')
    p.add_argument('--mapping', help='categoryMapping.txt (instance class -> SceneParsing label)')
    p.add_argument('--no-validate', action='store_true')
    args = p.parse_args(argv)
    out = args.out_dir or args.root
    try:
        mapping = read_ade20k_category_mapping(args.mapping) if args.mapping else None
        for split in args.split:
            ann = osp.join(out, f'ade20k_panoptic_{split}.json')
            png_dir = osp.join(out, f'ade20k_panoptic_{split}')
            report = ade20k_to_coco_panoptic(args.root, split, ann, png_dir, mapping=mapping)
            print(f'{split}: {report["images"]} images, {report["segments"]} segments, '
                  f'{report["void_thing_pixels"]} thing-class pixels without an instance '
                  f'left VOID -> {ann}')
            if not args.no_validate:
                from mmpanoptic.datasets.validation import validate_files
                sub = {'train': 'training', 'val': 'validation'}.get(split, split)
                problems = validate_files(ann, png_dir, osp.join(args.root, 'images', sub),
                                          progress=False)
                if problems:
                    for problem in problems[:20]:
                        print(f'  {problem}')
                    sys.exit(f'error: {len(problems)} problems in the converted {split} split')
    except PanopticError as e:
        sys.exit(f'error: {e}')


if __name__ == '__main__':
    main()
