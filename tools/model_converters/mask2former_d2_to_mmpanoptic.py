"""Convert an official Mask2Former (detectron2) checkpoint for mmpanoptic.

    python tools/model_converters/mask2former_d2_to_mmpanoptic.py \
        model_final_94dc52.pkl mask2former_r50_coco-panoptic.pth [--class-order 0,1,...]

Reads ``.pkl`` (detectron2 model zoo, numpy arrays) or ``.pth``; writes
``{'state_dict': ..., 'meta': {...}}`` loadable with ``load_from`` or
``tools/test.py``.  mmdet's own Mask2Former / MaskFormer checkpoints need no
conversion.  Unknown keys stop the conversion with the key named.
"""
from mmpanoptic.models.checkpoints.detectron2_keys import convert_mask2former_d2, converter_cli


def main(argv=None):
    converter_cli(convert_mask2former_d2, __doc__.split('\n')[0], argv)


if __name__ == '__main__':
    main()
