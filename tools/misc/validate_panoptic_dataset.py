"""Check a COCO-panoptic dataset before training; list every problem.

    python tools/misc/validate_panoptic_dataset.py --json ANN.json --png-dir DIR \\
        [--images-dir DIR] [--json-only] [--max-lines N]

JSON: categories without ``isthing``, duplicate category / image / segment ids,
unknown category ids, annotations of unknown images, images without
annotations, segments without ``area`` / ``bbox``, bad ``iscrowd``.
PNGs: missing / unreadable / wrong-size PNGs, ids in a PNG with no
``segments_info`` entry and the reverse, ``area`` / ``bbox`` that disagree
with the pixels.  With ``--images-dir``: missing images and images whose size
differs from the JSON.  Each problem is printed with its file, image and
segment; a summary table ends the report.  Exit status 0 when clean, 1 when not.
"""
import argparse
import sys

from mmpanoptic.datasets.validation import check_json, check_pngs, load_json, summary_table


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--json', required=True, help='COCO panoptic annotation JSON')
    p.add_argument('--png-dir', required=True, help='folder of its RGB-id PNGs')
    p.add_argument('--images-dir', help='folder of the images (checked too when given)')
    p.add_argument('--json-only', action='store_true', help='only the JSON-level checks')
    p.add_argument('--max-lines', type=int, default=1000,
                   help='print at most this many problems (all are counted)')
    p.add_argument('--no-progress', action='store_true')
    args = p.parse_args(argv)

    data, problems = load_json(args.json)
    if data is not None:
        problems += check_json(data, args.json)
        if not args.json_only:
            problems += list(check_pngs(data, args.png_dir, args.images_dir,
                                        progress=not args.no_progress))
    for prob in problems[:args.max_lines]:
        print(prob)
    if len(problems) > args.max_lines:
        print(f'... and {len(problems) - args.max_lines} more')
    if problems:
        print('\n' + summary_table(problems))
        print(f'\n{args.json}: {len(problems)} problem(s)')
        return 1
    n = len(data['annotations'])
    print(f'{args.json}: clean ({n} images, {len(data["categories"])} categories'
          f'{", JSON only" if args.json_only else ""})')
    return 0


if __name__ == '__main__':
    sys.exit(main())
