"""VidEoMT: EoMT with its queries carried from frame to frame."""
from typing import List, Optional, Sequence, Tuple

import torch
from mmdet.structures import SampleList
from torch import Tensor, nn

from mmpanoptic.registry import MODELS

from ..builder import merged_config
from .eomt import EoMT


@MODELS.register_module()
class VidEoMT(EoMT):
    """VidEoMT (video EoMT): an :class:`EoMT` whose query tokens for frame
    ``t`` are its learned queries plus a linear map (``query_updater``) of
    frame ``t - 1``'s output query tokens (before the final norm), so query
    ``q`` follows its object: the query index is the track, and there is no
    tracker network.  Frame 0 starts from the learned queries alone.

    Inference: as a :class:`VideoPanopticSegmentor` detector with
    :class:`QueryPropagationTracker` ``(refresh_interval=None)``: the video
    model hands each frame's ``queries`` (this model's raw query tokens) back
    as the next frame's ``init_queries``.  Training: the video model's
    ``train_propagation`` pairs (reference frame from the learned queries,
    key frame from the reference's propagated ones), or frames as images.

    At inference the queries' attention is never masked (transformers'
    VidEoMT ignores ``attn_mask_probs``); training masks it with EoMT's
    annealing.  Differences from transformers' ``VideomtForUniversalSegmentation``:
    none in the network (logits equal to 1e-4, tested); it runs the frames
    of a batch through the first blocks together and then one frame at a
    time, which the video model does frame by frame here.

    Args:
        image_model: an :class:`EoMT` config whose arguments to take (what
            a video config built on an EoMT config passes:
            ``detector=dict(type='VidEoMT', image_model={{_base_.model}})``);
            arguments given here override them, dicts key by key
            (``backbone=dict(img_size=1280)`` changes only that).
        others: as :class:`EoMT`.
    """

    def __init__(self, image_model: Optional[dict] = None, **kwargs) -> None:
        if image_model is not None:
            if image_model.get('type', 'EoMT') not in ('EoMT', 'VidEoMT'):
                raise TypeError(f"VidEoMT(image_model=...) takes an EoMT config, got "
                                f"{image_model.get('type')!r}")
            kwargs = merged_config({k: v for k, v in image_model.items() if k != 'type'}, kwargs)
        super().__init__(**kwargs)
        dims = self.backbone.embed_dims
        self.query_updater = nn.Linear(dims, dims)

    def propagated_queries(self, previous: Tensor) -> Tensor:
        """Query tokens of a frame from the previous frame's raw output
        query tokens (B, Q, C)."""
        learned = self.panoptic_head.query_embed.weight[None]
        return self.query_updater(previous) + learned

    def head_outputs(self, batch_inputs: Tensor, batch_data_samples: SampleList, *,
                     with_queries: bool = False, init_queries: Optional[Tensor] = None
                     ) -> Tuple[List[Tensor], List[Tensor], Optional[Tensor], Sequence[Tensor]]:
        """EoMT's predictions; ``init_queries`` are the *previous frame's*
        raw output queries (mapped by :meth:`propagated_queries`), and the
        returned ``queries`` are this frame's raw output queries."""
        queries = None if init_queries is None else self.propagated_queries(init_queries)
        cls, masks, _, raw = self.encode(batch_inputs, init_queries=queries,
                                         all_layers=self.training,
                                         mask_attention=None if self.training else False)
        return cls, masks, raw if with_queries else None, ()

    def video_outputs(self, frames: Tensor) -> Tuple[Tensor, Tensor]:
        """Class and mask logits of the T frames of one video (T, 3, H, W),
        propagating the queries (for tests and offline use): (T, Q, C + 1)
        and (T, Q, h, w)."""
        cls_all, masks_all, previous = [], [], None
        for t in range(len(frames)):
            cls, masks, previous, _ = self.head_outputs(frames[t:t + 1], [], with_queries=True,
                                                        init_queries=previous)
            cls_all.append(cls[-1])
            masks_all.append(masks[-1])
        return torch.cat(cls_all), torch.cat(masks_all)
