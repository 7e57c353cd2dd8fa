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

    #: children left to eager mode by :meth:`compile_network`: the loss and
    #: the post-processing are Python loops over segments and queries.
    eager_parts: ClassVar[tuple] = ('data_preprocessor', 'criterion', 'fusion')

    def compile_network(self, **options) -> list:
        """``torch.compile`` the network in place (``nn.Module.compile``:
        the state-dict keys do not change, so checkpoints still load), one
        compiled graph per direct child but :attr:`eager_parts`.  ``options``
        go to ``torch.compile`` (e.g. ``mode='max-autotune'``).  Returns the
        names compiled."""
        names = []
        for name, child in self.named_children():
            if name not in self.eager_parts and any(True for _ in child.parameters()):
                child.compile(**options)
                names.append(name)
        return names
