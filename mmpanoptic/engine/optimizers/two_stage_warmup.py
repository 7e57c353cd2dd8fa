"""EoMT's learning-rate schedule: a two-stage warm-up, then poly decay."""
from mmengine.optim.scheduler.param_scheduler import _ParamScheduler

from mmpanoptic.registry import PARAM_SCHEDULERS


@PARAM_SCHEDULERS.register_module()
class TwoStageWarmupPolyLR(_ParamScheduler):
    """EoMT's ``TwoStageWarmupPolySchedule`` on mmengine's scheduler base.

    Parameter groups marked ``backbone=True`` (the pretrained ViT, see
    :class:`ViTLayerDecayOptimWrapperConstructor`) stay at 0 for the first
    ``warmup_iters[0]`` steps while the new parts warm up linearly, then warm
    up linearly over ``warmup_iters[1]``; afterwards every group decays as
    ``(1 - t / T) ** power`` over the rest of ``[begin, end)``.

    Args:
        optimizer: the optimizer (wrapper).
        warmup_iters: ``(new parts, backbone)`` warm-up lengths.
        power: the poly exponent.
        begin, end, last_step, by_epoch, verbose: as mmengine's schedulers.
    """

    def __init__(self, optimizer, *, warmup_iters=(500, 1000), power: float = 0.9,
                 begin: int = 0, end: int, last_step: int = -1, by_epoch: bool = False,
                 verbose: bool = False) -> None:
        self.warmup_iters = tuple(int(w) for w in warmup_iters)
        self.power = power
        self.total = end - begin
        super().__init__(optimizer, 'lr', begin=begin, end=end, last_step=last_step,
                         by_epoch=by_epoch, verbose=verbose)

    def factor(self, step: int, backbone: bool) -> float:
        """The learning-rate factor of a group at ``step`` (0-based)."""
        first, second = self.warmup_iters
        if not backbone:
            if first > 0 and step < first:
                return step / first
            return (1 - max(0, step - first) / max(1, self.total - first)) ** self.power
        if step < first:
            return 0.0
        if step < first + second:
            return (step - first) / second
        return (1 - max(0, step - first - second) / max(1, self.total - first - second)
                ) ** self.power

    def _get_value(self):
        return [base * self.factor(self.last_step, bool(group.get('backbone', False)))
                for base, group in zip(self.base_values, self.optimizer.param_groups)]
