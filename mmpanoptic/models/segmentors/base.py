"""The one ``predict`` of every image segmentor (the contract of
:mod:`mmpanoptic.models.fusion.base`)."""
from typing import ClassVar, Optional

from mmdet.structures import SampleList
from torch import Tensor

from ..fusion.base import add_pred_to_samples
from ..tta import TTAStep


class PanopticPredictMixin:
    """``predict`` = ``predict_outputs`` -> ``fusion`` -> data samples.

    A segmentor implements ``predict_outputs(inputs, samples, **options)``
    (the fusion's inputs) and has a ``fusion``; test-time augmentation
    (:mod:`mmpanoptic.models.tta`) and the video model reuse the same two
    steps.  Put the mixin first in the bases so that it overrides mmdet's
    ``predict``.

    ``tta_step`` is the family's test-time augmentation step
    (:class:`~mmpanoptic.models.tta.TTAStep`; None: no TTA).
    """

    tta_step: ClassVar[Optional[TTAStep]] = None

    def predict(self, batch_inputs: Tensor, batch_data_samples: SampleList,
                rescale: bool = True) -> SampleList:
        """Panoptic predictions (and semantic / instance ones where the
        fusion gives them), at ``ori_shape`` with ``rescale``."""
        outputs = self.predict_outputs(batch_inputs, batch_data_samples,
                                       **self.predict_output_options(rescale))
        metas = [s.metainfo for s in batch_data_samples]
        return add_pred_to_samples(batch_data_samples,
                                   self.fusion(outputs, metas, rescale=rescale))

    def predict_output_options(self, rescale: bool) -> dict:
        """Extra keyword arguments of ``predict_outputs`` (none by default)."""
        return {}
