"""The test-time augmentation model (flip and multi-scale) of every image
segmentor.

mmengine's ``BaseTTAModel`` runs the model on every augmented view and then
merges the *final* predictions; panoptic maps of different views cannot be
averaged (their segment ids are unrelated).  :class:`PanopticTTAModel` merges
one step earlier, where every family's outputs are dense, per query or per
box:

1. each view: the family's ``view_outputs`` (the fusion's inputs, or more);
2. per image, the views' outputs are brought back onto the reference view
   (the first one: the test scale, not flipped) and merged by the family's
   ``merge`` (:mod:`.query_tta`, :mod:`.center_tta`, :mod:`.two_stage_tta`);
3. the model's own ``fusion`` once on the merged outputs, at ``ori_shape``.

Which family step a model uses is its class attribute ``tta_step``
(:mod:`.step`).
"""
from typing import List

import torch
from mmengine.model import BaseTTAModel

from mmpanoptic.registry import MODELS

from ..fusion.base import add_pred_to_samples
from .step import TTAStep, View


@MODELS.register_module()
class PanopticTTAModel(BaseTTAModel):
    """Flip / multi-scale test-time augmentation for panoptic models.

    Used by ``tools/test.py CONFIG CKPT --tta`` with the config's
    ``tta_model = dict(type='PanopticTTAModel')`` and ``tta_pipeline`` (a
    ``TestTimeAug`` whose first view is the plain test view: it is the
    reference the others are mapped onto, and its data samples carry the
    ground truth to the metrics).

    Args:
        module: the panoptic model (config or module); an image segmentor
            whose ``tta_step`` is set.
        data_preprocessor: as in ``BaseTTAModel`` (the module's is used).
    """

    @property
    def step(self) -> TTAStep:
        """The wrapped model's family step (its ``tta_step``)."""
        try:
            step = self.module.tta_step  # declared by every image segmentor (None: no TTA)
        except AttributeError:
            step = None
        if not isinstance(step, TTAStep):
            raise NotImplementedError(
                f'{type(self.module).__name__} has no test-time augmentation (its class sets '
                'no tta_step); supported: MaskFormer, Mask2Former, K-Net, FC-CLIP, '
                'Panoptic-DeepLab, Panoptic FPN, UPSNet')
        return step

    @torch.no_grad()
    def test_step(self, data):
        step, model = self.step, self.module
        views: List[View] = []
        ref_samples = None
        for i in range(len(data['inputs'])):
            view = model.data_preprocessor({k: v[i] for k, v in data.items()}, False)
            outputs = step.view_outputs(model, view['inputs'], view['data_samples'])
            views.append((outputs, [s.metainfo for s in view['data_samples']],
                          tuple(view['inputs'].shape[-2:])))
            if i == 0:
                ref_samples = view['data_samples']
        results = []
        for b in range(len(ref_samples)):
            outputs, meta = step.merge(model, views, b)
            results += model.fusion(outputs, [meta], rescale=True)
        return add_pred_to_samples(ref_samples, results)

    def merge_preds(self, data_samples_list):
        raise NotImplementedError('PanopticTTAModel merges model outputs in test_step')
