"""ADE20K panoptic (150 classes: 100 things, 50 stuff) in COCO panoptic format."""
from mmpanoptic.registry import DATASETS

from .coco_panoptic import CocoPanopticDataset


@DATASETS.register_module()
class ADE20KPanopticDataset(CocoPanopticDataset):
    """ADE20K (SceneParsing 150) converted to COCO panoptic format.

    The conversion (docs/dataset_prepare.md) writes
    ``ade20k_panoptic_{train,val}.json`` and PNG folders of the same names;
    images stay in ``images/{training,validation}/``.  Classes (with their
    thing/stuff flags) come from the JSON, like every panoptic dataset here.
    """
