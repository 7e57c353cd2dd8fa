"""Convert a detectron2 Panoptic-DeepLab checkpoint for mmpanoptic.

    python tools/model_converters/panoptic_deeplab_d2_to_mmpanoptic.py \
        model_final_5e6da2.pkl panoptic-deeplab_r52-dsconv_coco.pth [--class-order 0,1,...]

For configs in detectron2's layout
(``configs/panoptic_deeplab/panoptic-deeplab_r52-dsconv_os16_200k_coco-panoptic.py``).
Reads ``.pkl`` (detectron2 model zoo, numpy arrays) or ``.pth``; writes
``{'state_dict': ..., 'meta': {...}}`` loadable with ``load_from`` or
``tools/test.py``.  Unknown keys stop the conversion with the key named.
"""
import argparse
import os.path as osp

import torch

from mmpanoptic.models.converters import convert_panoptic_deeplab_d2, load_detectron2_checkpoint


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('src', help='detectron2 checkpoint (.pkl or .pth)')
    parser.add_argument('dst', help='output .pth')
    parser.add_argument('--class-order', default=None,
                        help='comma-separated detectron2 class index for each of our labels')
    args = parser.parse_args(argv)
    order = [int(i) for i in args.class_order.split(',')] if args.class_order else None
    state = convert_panoptic_deeplab_d2(load_detectron2_checkpoint(args.src), class_order=order)
    torch.save(dict(state_dict=state, meta=dict(converted_from=osp.basename(args.src))),
               args.dst)
    print(f'{len(state)} tensors written to {args.dst}')


if __name__ == '__main__':
    main()
