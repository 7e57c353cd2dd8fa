"""Cityscapes gtFine -> COCO panoptic (cityscapesscripts' createPanopticImgs convention).

    python tools/dataset_converters/cityscapes_to_coco_panoptic.py \\
        --gtfine data/cityscapes/gtFine --split val
    # writes data/cityscapes/gtFine/cityscapes_panoptic_val.json and
    #        data/cityscapes/gtFine/cityscapes_panoptic_val/*_gtFine_panoptic.png

Reads ``gtFine/<split>/<city>/*_gtFine_instanceIds.png``; 19 evaluated
classes, category ids = Cityscapes label ids (``--use-train-id`` for 0..18),
thing pixels without an instance are crowd regions, the label ids Cityscapes
does not evaluate VOID.  A label id outside Cityscapes' table is an error
naming the file; ``--unknown-as-void`` makes it VOID and reports the pixels.
"""
import argparse
import os.path as osp
import sys

from mmpanoptic.datasets.converters import cityscapes_to_coco_panoptic
from mmpanoptic.fileio import PanopticError


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--gtfine', required=True, help='the gtFine folder')
    p.add_argument('--split', nargs='+', default=['train', 'val'])
    p.add_argument('--out-dir', help='default: the gtFine folder')
    p.add_argument('--use-train-id', action='store_true')
    p.add_argument('--unknown-as-void', action='store_true',
                   help='label ids outside Cityscapes\' table become VOID (counted) instead '
                        'of an error')
    args = p.parse_args(argv)
    out = args.out_dir or args.gtfine
    for split in args.split:
        report = {}
        try:
            n = cityscapes_to_coco_panoptic(
                args.gtfine, split, osp.join(out, f'cityscapes_panoptic_{split}.json'),
                osp.join(out, f'cityscapes_panoptic_{split}'), use_train_id=args.use_train_id,
                unknown_as_void=args.unknown_as_void, report=report)
        except PanopticError as e:
            sys.exit(f'error: {e}')
        print(f'{split}: {n} images -> {osp.join(out, f"cityscapes_panoptic_{split}.json")}')
        if report.get('unknown_void_pixels'):
            print(f'{split}: {report["unknown_void_pixels"]} pixels of unknown label ids '
                  'made VOID (--unknown-as-void)')


if __name__ == '__main__':
    main()
