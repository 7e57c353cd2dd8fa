"""The one contract of every fusion (panoptic post-processor).

Every model family predicts in the same four steps (``predict`` of every
segmentor)::

    outputs = model.predict_outputs(inputs, samples)   # 1. features, 2. heads -> dict
    results = model.fusion(outputs, metas, rescale)    # 3. fusion
    add_pred_to_samples(samples, results)              # 4. data samples

A fusion is a registered module whose ``forward(outputs, batch_img_metas,
rescale=True)`` reads the keys it names in ``input_keys`` from ``outputs``
(batched tensors or per-image lists) and returns one dict per image with
``panoptic = (ids (H, W) int32, segments_info)`` (0 = VOID, segments
1..S with ``id``, ``label``, ``isthing``, ``area`` and, where known,
``score``) and optionally ``semantic`` (``PixelData``) and ``instances``
(``InstanceData``).  ``H, W`` is ``ori_shape`` with ``rescale``, else
``img_shape``.  The merge itself is a pure function in the module named
after the method (:mod:`.mask_classification`, :mod:`.heuristic`,
:mod:`.upsnet_panoptic`, :mod:`.center_grouping`).
"""
from typing import Dict, List, Optional, Sequence, Tuple

from mmdet.structures import SampleList
from mmengine.structures import PixelData
from torch import nn


class PanopticFusion(nn.Module):
    """Base of the registered fusions: the contract above.

    Subclasses set ``input_keys`` and implement :meth:`fuse`; the class
    counts (filled in by the segmentor) live here.

    Args:
        num_things: thing classes are labels ``[0, num_things)``.
        num_stuff: stuff classes follow (None where a fusion does not need it).
    """

    input_keys: Tuple[str, ...] = ()

    def __init__(self, *, num_things: int, num_stuff: Optional[int] = None) -> None:
        super().__init__()
        self.num_things = num_things
        self.num_stuff = num_stuff

    @property
    def num_classes(self) -> int:
        """Things + stuff."""
        return self.num_things + self.num_stuff

    def forward(self, outputs: Dict, batch_img_metas: Sequence[dict],
                rescale: bool = True) -> List[Dict]:
        missing = [k for k in self.input_keys if k not in outputs]
        if missing:
            raise KeyError(f'{type(self).__name__} needs the model outputs {missing}; got '
                           f'{sorted(outputs)}')
        return self.fuse(outputs, batch_img_metas, rescale)

    def fuse(self, outputs: Dict, batch_img_metas: Sequence[dict],
             rescale: bool) -> List[Dict]:
        raise NotImplementedError


def add_pred_to_samples(samples: SampleList, results: Sequence[Dict]) -> SampleList:
    """Write a fusion's results into the data samples (step 4): the id map
    and ``segments_info`` as ``pred_panoptic_seg``, and ``pred_sem_seg`` /
    ``pred_instances`` when the fusion gave them."""
    if len(samples) != len(results):
        raise ValueError(f'{len(results)} fusion results for {len(samples)} samples')
    for sample, result in zip(samples, results):
        ids, segments = result['panoptic']
        sample.pred_panoptic_seg = PixelData(sem_seg=ids[None],
                                             metainfo=dict(segments_info=segments))
        if 'semantic' in result:
            sample.pred_sem_seg = result['semantic']
        if 'instances' in result:
            sample.pred_instances = result['instances']
    return samples
