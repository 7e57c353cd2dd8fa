"""Stop (or skip) a training step whose loss or gradients are not finite."""
import math
from typing import Dict, List

import torch
import torch.distributed as dist
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner

from mmpanoptic.registry import HOOKS


class NonFiniteLossError(RuntimeError):
    """A training step produced NaN / inf (raised before the optimizer step,
    so the weights and the last checkpoint stay good)."""


def _image_files(data_batch) -> List[str]:
    samples = data_batch.get('data_samples', []) if isinstance(data_batch, dict) else []
    out = []
    for s in samples:
        meta = getattr(s, 'metainfo', {}) or {}
        out.append(str(meta.get('img_path') or meta.get('img_id') or '?'))
    return out


@HOOKS.register_module()
class NonFiniteCheckHook(Hook):
    """Check every training step's loss (and, with ``check_grads``, its
    gradients) before the optimizer step.

    On NaN / inf, ``action='stop'`` raises :class:`NonFiniteLossError`
    naming the iteration, the non-finite loss terms and the batch's image
    files, before the weights change (``tools/train.py`` prints it and exits
    1; the last checkpoint is the last good one).  ``action='skip'`` drops
    the step instead (no update), counts it (``nonfinite_skipped`` in the
    message hub) and logs a warning; after ``max_skips`` skipped steps in a
    row it stops.  With several processes the decision is taken together
    (one ``all_reduce``), so every rank skips or stops the same step.

    How: before training it wraps the optimizer wrapper's ``update_params``
    and the model's ``parse_losses`` of this run (the objects, not the
    classes), which every train step (DDP's too) goes through.  Enabled for
    every config by ``configs/_base_/default_runtime.py``
    (``default_hooks.nonfinite``).

    Args:
        action: ``'stop'`` or ``'skip'``.
        check_grads: also check the gradients after backward (one pass over
            the parameters per step).
        max_skips: consecutive skipped steps before stopping anyway.
    """

    priority = 'HIGHEST'

    def __init__(self, action: str = 'stop', check_grads: bool = False,
                 max_skips: int = 20) -> None:
        if action not in ('stop', 'skip'):
            raise ValueError(f"NonFiniteCheckHook: action={action!r}, 'stop' or 'skip'")
        self.action = action
        self.check_grads = check_grads
        self.max_skips = max_skips
        self.skipped = 0
        self.in_a_row = 0
        self._terms: Dict[str, float] = {}
        self._batch = None
        self._iter = 0

    def before_train(self, runner: Runner) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        parse = model.parse_losses

        def parse_losses(losses):
            loss, log_vars = parse(losses)
            values = {k: float(v.detach() if hasattr(v, 'detach') else v)
                      for k, v in log_vars.items()}
            self._terms = {k: v for k, v in values.items() if not math.isfinite(v)}
            return loss, log_vars

        model.parse_losses = parse_losses
        wrapper = runner.optim_wrapper
        wrappers = wrapper.values() if hasattr(wrapper, 'values') and not hasattr(
            wrapper, 'update_params') else [wrapper]
        for w in wrappers:
            w.update_params = self._checked(w, w.update_params)

    def before_train_iter(self, runner: Runner, batch_idx: int, data_batch=None) -> None:
        self._batch = data_batch
        self._iter = runner.iter + 1

    def _agree(self, bad: bool) -> bool:
        if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
            flag = torch.tensor([1.0 if bad else 0.0])
            dist.all_reduce(flag, op=dist.ReduceOp.MAX)
            return bool(flag.item())
        return bad

    def _checked(self, wrapper, update):
        def update_params(loss, *args, **kwargs):
            bad = not bool(torch.isfinite(loss.detach()).all())
            if self._agree(bad):
                return self._fault(wrapper, f'loss {float(loss.detach())}')
            if not self.check_grads:
                self.in_a_row = 0
                return update(loss, *args, **kwargs)
            wrapper.backward(loss)
            if wrapper.should_update():
                bad = any(p.grad is not None and not bool(torch.isfinite(p.grad).all())
                          for group in wrapper.optimizer.param_groups for p in group['params'])
                if self._agree(bad):
                    return self._fault(wrapper, 'gradients', zero=True)
                wrapper.step()
                wrapper.zero_grad()
            self.in_a_row = 0
        return update_params

    def _fault(self, wrapper, what: str, zero: bool = False) -> None:
        terms = ', '.join(f'{k}={v}' for k, v in self._terms.items()) or 'none of the terms'
        files = _image_files(self._batch)
        message = (f'non-finite {what} at iteration {self._iter} (non-finite loss terms: '
                   f'{terms}); batch images: {", ".join(files) or "unknown"}')
        if zero:
            wrapper.zero_grad()
        if self.action == 'stop':
            raise NonFiniteLossError(message + '. Stopped before the optimizer step: the '
                                     'weights and the last checkpoint are the last good ones '
                                     '(default_hooks.nonfinite.action="skip" skips such steps)')
        self.skipped += 1
        self.in_a_row += 1
        from mmengine.logging import MessageHub, print_log
        MessageHub.get_current_instance().update_info('nonfinite_skipped', self.skipped)
        print_log(f'{message}; step skipped ({self.skipped} so far)', logger='current',
                  level=30)
        if self.in_a_row >= self.max_skips:
            raise NonFiniteLossError(f'{self.in_a_row} steps in a row were non-finite (last: '
                                     f'{message}); stopping')
        return None


__all__ = ['NonFiniteCheckHook', 'NonFiniteLossError']
