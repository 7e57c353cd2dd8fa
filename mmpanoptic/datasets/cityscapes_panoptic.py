"""Cityscapes panoptic (19 classes: 8 things, 11 stuff) in COCO panoptic format."""
import os.path as osp

from mmpanoptic.registry import DATASETS

from .coco_panoptic import CocoPanopticDataset


@DATASETS.register_module()
class CityscapesPanopticDataset(CocoPanopticDataset):
    """Cityscapes converted by ``cityscapesscripts``' ``createPanopticImgs``.

    The JSON (``gtFine/cityscapes_panoptic_{train,val}.json``) names images
    ``<city>_<seq>_<frame>_leftImg8bit.png`` while the files are in
    ``leftImg8bit/<split>/<city>/``: the city folder is taken from the name.
    Category ids are Cityscapes label ids (7, 8, 11, ..., 33), mapped to
    contiguous labels with things first, as for COCO.
    """

    def image_path(self, img_prefix: str, file_name: str) -> str:
        city = osp.basename(file_name).split('_')[0]
        return osp.join(img_prefix, city, osp.basename(file_name))
