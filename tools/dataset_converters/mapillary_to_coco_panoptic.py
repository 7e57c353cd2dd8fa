"""Mapillary Vistas instance annotations -> COCO panoptic (v1.2 or v2.0).

    python tools/dataset_converters/mapillary_to_coco_panoptic.py \\
        --root data/mapillary --version v2.0 --compare
    # writes <split>/v2.0/panoptic/panoptic_2020.json + PNGs where the release
    # has none (configs/mask2former/mask2former_r50_300k_mapillary-v2-panoptic.py
    # reads them), else under --out-dir

Reads ``<split>/<version>/instances/*.png`` (16 bit: label index * 256 +
instance number; the standalone v1.x release: ``<split>/instances``) and the
label list ``config_<version>.json`` (or ``config.json``).  Category id =
label index + 1 as in the release's panoptic JSON; labels with instances are
things (one segment per instance), the others stuff (one segment per image);
labels with ``"evaluate": false`` are VOID unless ``--keep-unevaluated``.
``--compare`` checks the result segment by segment against the release's own
panoptic files when they exist and lists every difference.  The output is
checked by the dataset validator unless ``--no-validate``.
"""
import argparse
import os.path as osp
import sys

from mmpanoptic.datasets.converters import (
    compare_panoptic,
    mapillary_to_coco_panoptic,
)
from mmpanoptic.fileio import PanopticError

JSON_NAME = {'v1.2': 'panoptic_2018.json', 'v2.0': 'panoptic_2020.json'}


def released_panoptic(root, split, version):
    """The release's own panoptic JSON and PNG folder, if present."""
    for folder in (osp.join(root, split, version, 'panoptic'), osp.join(root, split, 'panoptic')):
        path = osp.join(folder, JSON_NAME.get(version, 'panoptic.json'))
        if osp.isfile(path):
            return path, folder
    return None, None


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--root', required=True, help='the Mapillary Vistas folder')
    p.add_argument('--version', default='v2.0', help='v2.0 (124 labels) or v1.2 (66 labels)')
    p.add_argument('--split', nargs='+', default=['training', 'validation'])
    p.add_argument('--out-dir', help='write <out-dir>/<split>/{JSON, PNGs} here (needed when '
                   'the release has its own panoptic files)')
    p.add_argument('--keep-unevaluated', action='store_true')
    p.add_argument('--compare', action='store_true',
                   help='compare with the release\'s panoptic files, segment by segment')
    p.add_argument('--max-differences', type=int, default=20)
    p.add_argument('--no-validate', action='store_true')
    args = p.parse_args(argv)
    name = JSON_NAME.get(args.version, 'panoptic.json')
    failed = False
    try:
        for split in args.split:
            ref_json, ref_dir = released_panoptic(args.root, split, args.version)
            if args.out_dir:
                png_dir = osp.join(args.out_dir, split, 'panoptic')
            elif ref_json is None:
                png_dir = osp.join(args.root, split, args.version, 'panoptic')
            else:
                sys.exit(f'error: {ref_json} exists (the release\'s own panoptic set); pass '
                         '--out-dir to write the conversion elsewhere')
            out_json = osp.join(png_dir, name)
            report = mapillary_to_coco_panoptic(args.root, split, args.version, out_json,
                                                png_dir, keep_unevaluated=args.keep_unevaluated)
            print(f'{split}: {report["images"]} images, {report["segments"]} segments, '
                  f'{report["categories"]} categories ({report["things"]} things) -> {out_json}')
            if not args.no_validate:
                from mmpanoptic.datasets.validation import validate_files
                problems = validate_files(out_json, png_dir, osp.join(args.root, split, 'images'),
                                          progress=False)
                for problem in problems[:args.max_differences]:
                    print(f'  {problem}')
                if problems:
                    print(f'{split}: {len(problems)} validator problems')
                    failed = True
            if args.compare:
                if ref_json is None:
                    print(f'{split}: --compare: the release has no {name} for this split')
                    continue
                diffs = compare_panoptic(out_json, png_dir, ref_json, ref_dir)
                for line in diffs[:args.max_differences]:
                    print(f'  {line}')
                print(f'{split}: {len(diffs)} differences from {ref_json}')
                failed |= bool(diffs)
    except PanopticError as e:
        sys.exit(f'error: {e}')
    sys.exit(1 if failed else 0)


if __name__ == '__main__':
    main()
