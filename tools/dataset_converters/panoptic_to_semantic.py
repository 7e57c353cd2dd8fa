"""COCO panoptic -> semantic label PNGs for mmsegmentation.

    python tools/dataset_converters/panoptic_to_semantic.py --json PANOPTIC.json \\
        --png-dir PANOPTIC_PNGS --out-dir SEMANTIC_PNGS

Label = the category's index in the JSON's ``categories`` (crowd regions keep
their class), VOID = 255; prints the class names in label order for the mmseg
config.
"""
import argparse
import sys

from mmpanoptic.datasets.converters import panoptic_to_semantic
from mmpanoptic.fileio import PanopticError


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--json', required=True)
    p.add_argument('--png-dir', required=True)
    p.add_argument('--out-dir', required=True)
    p.add_argument('--ignore-label', type=int, default=255)
    args = p.parse_args(argv)
    try:
        classes = panoptic_to_semantic(args.json, args.png_dir, args.out_dir,
                                       ignore_label=args.ignore_label)
    except PanopticError as e:
        sys.exit(f'error: {e}')
    print(f'{len(classes)} classes, label order: {classes}')


if __name__ == '__main__':
    main()
