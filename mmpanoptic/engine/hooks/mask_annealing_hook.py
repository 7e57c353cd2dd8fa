"""EoMT's mask annealing: masked attention fades out during training."""
from typing import Optional, Sequence

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmpanoptic.models.heads import EoMTHead
from mmpanoptic.registry import HOOKS


def annealed_probability(step: int, start: int, end: int, power: float = 0.9) -> float:
    """1 before ``start``, 0 from ``end`` on, ``(1 - progress) ** power`` between.

    >>> [round(annealed_probability(s, 10, 20), 3) for s in (0, 10, 15, 20)]
    [1.0, 1.0, 0.536, 0.0]
    """
    if step < start:
        return 1.0
    if step >= end:
        return 0.0
    return (1.0 - (step - start) / (end - start)) ** power


@HOOKS.register_module()
class MaskAnnealingHook(Hook):
    """Anneal the probability that EoMT masks a query's attention, block by
    block (EoMT's ``mask_annealing``): block ``i`` keeps probability 1 until
    ``start_iters[i]``, decays polynomially (``power``) and is 0 from
    ``end_iters[i]``, so the trained model needs no mask at inference.

    The probabilities live in the head's ``attn_mask_probs`` buffer (saved
    with the checkpoint); they are set before training (from the resumed
    iteration) and after every iteration for the next one.

    Args:
        start_iters, end_iters: per query block (first to last).
        power: the decay's exponent (EoMT: 0.9, its poly learning rate's).
    """

    priority = 'NORMAL'

    def __init__(self, start_iters: Sequence[int], end_iters: Sequence[int],
                 power: float = 0.9) -> None:
        if len(start_iters) != len(end_iters):
            raise ValueError(f'{len(start_iters)} start_iters but {len(end_iters)} end_iters')
        for s, e in zip(start_iters, end_iters):
            if e <= s:
                raise ValueError(f'an annealing ends ({e}) before it starts ({s})')
        self.start_iters, self.end_iters = list(start_iters), list(end_iters)
        self.power = power

    def _set(self, runner, step: int) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        heads = [m for m in model.modules() if isinstance(m, EoMTHead)]
        if not heads:
            raise TypeError(f'MaskAnnealingHook: {type(model).__name__} has no EoMTHead')
        for head in heads:
            if head.num_blocks != len(self.start_iters):
                raise ValueError(f'MaskAnnealingHook has {len(self.start_iters)} blocks, the '
                                 f'head {head.num_blocks}')
            for i, (s, e) in enumerate(zip(self.start_iters, self.end_iters)):
                head.attn_mask_probs[i] = annealed_probability(step, s, e, self.power)

    def before_train(self, runner) -> None:
        self._set(runner, runner.iter)

    def after_train_iter(self, runner, batch_idx: int, data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        self._set(runner, runner.iter + 1)
