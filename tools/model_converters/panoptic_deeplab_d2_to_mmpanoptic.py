"""Convert a detectron2 Panoptic-DeepLab checkpoint for mmpanoptic.

    python tools/model_converters/panoptic_deeplab_d2_to_mmpanoptic.py \
        model_final_5e6da2.pkl panoptic-deeplab_r52-dsconv_coco.pth [--class-order 0,1,...]

For configs in detectron2's layout
(``configs/panoptic_deeplab/panoptic-deeplab_r52-dsconv_os16_200k_coco-panoptic.py``).
Reads ``.pkl`` (detectron2 model zoo, numpy arrays) or ``.pth``; writes
``{'state_dict': ..., 'meta': {...}}`` loadable with ``load_from`` or
``tools/test.py``.  Unknown keys stop the conversion with the key named.
"""
from mmpanoptic.models.checkpoints.detectron2_keys import convert_panoptic_deeplab_d2, converter_cli


def main(argv=None):
    converter_cli(convert_panoptic_deeplab_d2, __doc__.split('\n')[0], argv)


if __name__ == '__main__':
    main()
