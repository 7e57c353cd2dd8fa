"""Semantic label maps + instance masks -> COCO panoptic (JSON + RGB-id PNGs).

    python tools/dataset_converters/semantic_to_coco_panoptic.py \\
        --semantic-dir SEM --instances-dir INST --categories categories.json \\
        --out-json annotations/panoptic_train.json --out-png-dir annotations/panoptic_train

SEM/<stem>.png: one class label per pixel (``label`` of a category, or its
index in categories.json; 255 = VOID).  INST/<stem>.png: an instance-id map
(0 = no instance), or INST/<stem>/ a folder of binary masks, one per object
(``*_crowd.png`` = crowd); masks must not overlap (the error names the pixel
count).  Each instance takes the thing class most of its pixels have; each
stuff class left is one segment; thing-class pixels outside every instance
become VOID and are reported.  categories.json: a list of
``{"id", "name", "isthing", ["label"]}``; or ``--vocabulary NAME`` instead:
a bundled vocabulary in label order (``pascal_context_59``,
``pascal_context_459``, ``ade20k_847``: the semantic benchmarks, every class
stuff), label i = category id i + 1.  Check the result with
tools/misc/validate_panoptic_dataset.py.

Zero-shot semantic benchmarks (configs ``*_zero-shot_pascal-context-59.py``
...), e.g. Pascal Context 59 after detectron2's prepare_pcontext_sem_seg_59.py:

    python tools/dataset_converters/semantic_to_coco_panoptic.py \
        --semantic-dir data/VOCdevkit/VOC2010/annotations_detectron2/pc59_val \
        --vocabulary pascal_context_59 --out-json data/VOCdevkit/VOC2010/pc59_val_panoptic.json \
        --out-png-dir data/VOCdevkit/VOC2010/pc59_val_panoptic
"""
import argparse
import json
import sys

from mmpanoptic.datasets.converters import convert_semantic_instances
from mmpanoptic.fileio import PanopticError


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--semantic-dir', required=True)
    p.add_argument('--instances-dir')
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument('--categories', help='JSON list of categories')
    which.add_argument('--vocabulary', help='a bundled vocabulary (label order) instead')
    p.add_argument('--out-json', required=True)
    p.add_argument('--out-png-dir', required=True)
    p.add_argument('--ignore-label', type=int, default=255)
    p.add_argument('--image-ext', default='.jpg', help='extension of the images\' file names')
    args = p.parse_args(argv)
    if args.vocabulary:
        from mmpanoptic.vocabularies import vocabulary_entries
        categories = [dict(id=i + 1, label=i, name=c['name'].split(',')[0].strip(),
                           isthing=int(c['isthing']))
                      for i, c in enumerate(vocabulary_entries(args.vocabulary))]
    else:
        with open(args.categories) as f:
            categories = json.load(f)
    try:
        report = convert_semantic_instances(args.semantic_dir, args.instances_dir, categories,
                                            args.out_json, args.out_png_dir,
                                            ignore_label=args.ignore_label,
                                            image_ext=args.image_ext)
    except PanopticError as e:
        sys.exit(f'error: {e}')
    print(f'{report["images"]} images, {report["segments"]} segments -> {args.out_json}')
    if report['void_thing_pixels']:
        names = report['images_with_void_things']
        print(f'note: {report["void_thing_pixels"]} thing-class pixels outside every instance '
              f'were left VOID in {len(names)} images (e.g. {", ".join(names[:5])})')


if __name__ == '__main__':
    main()
