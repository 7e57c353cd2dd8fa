"""A transformers backbone (ResNet, Swin, ...) as an mmpanoptic backbone.

Why: a Hugging Face Mask2Former / MaskFormer / DETR checkpoint carries its
backbone as transformers builds it (``AutoBackbone``), in any depth and
width; running that very module keeps the converted model exact
(``tools/model_converters/hf_to_mmpanoptic.py``), while the pixel decoder,
query head and fusion are mmpanoptic's.  transformers is imported when the
backbone is built (it comes with the runtime requirements).
"""
from typing import Dict, List, Optional, Sequence

from mmengine.model import BaseModule
from torch import Tensor

from mmpanoptic.registry import MODELS


@MODELS.register_module()
class HFBackbone(BaseModule):
    """``AutoBackbone.from_config`` of a transformers backbone config.

    Args:
        config: the backbone config as a dict (``model_type`` plus its
            fields, as in a checkpoint's ``backbone_config``).
        out_features: stages to return (default: the config's).
        frozen_bn: keep BatchNorm layers in inference mode (as
            detectron2's frozen BN of the checkpoints' training).
    """

    def __init__(self, *, config: Dict, out_features: Optional[Sequence[str]] = None,
                 frozen_bn: bool = True, init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        from transformers import AutoBackbone, AutoConfig
        cfg = dict(config)
        model_type = cfg.pop('model_type')
        if out_features is not None:
            cfg['out_features'] = list(out_features)
        cfg.pop('out_indices', None) if out_features is not None else None
        self.hf_config = AutoConfig.for_model(model_type, **cfg)
        self.body = AutoBackbone.from_config(self.hf_config)
        self.frozen_bn = frozen_bn

    @property
    def channels(self) -> List[int]:
        """Channels of the returned stages."""
        return list(self.body.channels)

    def train(self, mode: bool = True):
        super().train(mode)
        if self.frozen_bn:
            for m in self.body.modules():
                if 'BatchNorm' in type(m).__name__:
                    m.eval()
        return self

    def forward(self, x: Tensor) -> List[Tensor]:
        return list(self.body(pixel_values=x).feature_maps)
