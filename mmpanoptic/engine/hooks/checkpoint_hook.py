"""mmengine's ``CheckpointHook``, made safe to kill and exact to resume."""
import os
import os.path as osp

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook as MMEngineCheckpointHook
from mmengine.runner import Runner

from mmpanoptic.registry import HOOKS

from ..checkpoints import atomic_write, rng_states, set_rng_states, write_text_atomic


class _RestoreBeforeFetch:
    """Wraps the iteration loop's data iterator: after the ``skip`` batches
    mmengine replays on resume (which moves the sampler and the
    augmentations' random draws to where the run stopped), the saved random
    states are put back just before the next batch is fetched."""

    def __init__(self, iterator, skip: int, states) -> None:
        self._iterator, self._left, self._states = iterator, skip, states

    def __iter__(self):
        return self

    def __next__(self):
        if self._left == 0 and self._states is not None:
            set_rng_states(self._states)
            self._states = None
        self._left -= 1
        return next(self._iterator)

    def __getattr__(self, name):
        return getattr(self._iterator, name)


@HOOKS.register_module(force=True)
class CheckpointHook(MMEngineCheckpointHook):
    """mmengine's ``CheckpointHook`` (same arguments; configs name it
    ``CheckpointHook`` and get this one under ``default_scope='mmpanoptic'``)
    with two changes:

    * **atomic files**: a checkpoint is written to a temporary file in the
      same folder, fsynced and renamed over its name; the checkpoint that
      ``max_keep_ckpts`` retires is deleted only after that; ``last_checkpoint``
      is replaced the same way.  mmengine deletes first and writes in place,
      so a kill mid-write with ``max_keep_ckpts=1`` left only a truncated file.
    * **exact resume**: every checkpoint holds the torch / CUDA / numpy /
      Python random states; on resume they are restored right before the
      first new batch is fetched (iteration loops: after mmengine replays the
      batches already trained on; epoch loops: before the epoch starts).
      Optimizer, scheduler, message hub (and AMP scaler, EMA through their
      own hooks) are mmengine's.  A run killed and resumed ends with the
      same weights as one that was not (CPU, ``tests/test_engine/test_faults.py``).

    Only local folders are written atomically; other backends keep
    mmengine's behaviour.
    """

    priority = 'VERY_LOW'

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._resume_states = None

    # ----------------------------------------------------------- saving
    def _local(self) -> bool:
        return type(self.file_backend).__name__ == 'LocalBackend'

    def _save_checkpoint_with_step(self, runner: Runner, step, meta) -> None:
        if not self._local():
            return super()._save_checkpoint_with_step(runner, step, meta)
        retired = None
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids
                                            and self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                retired = self.keep_ckpt_ids.popleft()
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids', list(self.keep_ckpt_ids))
        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        final = osp.join(self.out_dir, ckpt_filename)

        def write(tmp):
            runner.save_checkpoint(osp.dirname(tmp), osp.basename(tmp), self.file_client_args,
                                   save_optimizer=self.save_optimizer,
                                   save_param_scheduler=self.save_param_scheduler,
                                   meta=meta, by_epoch=self.by_epoch,
                                   backend_args=self.backend_args, **self.args)

        if is_main_process():
            atomic_write(final, write)
            write_text_atomic(osp.join(runner.work_dir, 'last_checkpoint'), self.last_ckpt)
            if retired is not None:
                old = osp.join(self.out_dir, self.filename_tmpl.format(retired))
                if osp.isfile(old):
                    os.remove(old)
        else:  # other ranks take part in collecting the states, write nothing
            runner.save_checkpoint(self.out_dir, ckpt_filename, self.file_client_args,
                                   save_optimizer=self.save_optimizer,
                                   save_param_scheduler=self.save_param_scheduler,
                                   meta=meta, by_epoch=self.by_epoch,
                                   backend_args=self.backend_args, **self.args)

    def before_save_checkpoint(self, runner: Runner, checkpoint: dict) -> None:
        checkpoint['rng_states'] = rng_states()

    # ----------------------------------------------------------- resuming
    def after_load_checkpoint(self, runner: Runner, checkpoint: dict) -> None:
        if runner._resume:  # a fine-tuning load_from keeps its own seed
            self._resume_states = checkpoint.get('rng_states')

    def before_train(self, runner: Runner) -> None:
        super().before_train(runner)
        if self._resume_states is None:
            return
        loop = runner.train_loop
        if hasattr(loop, 'dataloader_iterator'):  # iteration loop: after the replay
            loop.dataloader_iterator = _RestoreBeforeFetch(loop.dataloader_iterator, loop.iter,
                                                           self._resume_states)
            self._resume_states = None

    def before_train_epoch(self, runner: Runner) -> None:
        if self._resume_states is not None:  # epoch loop: before its data
            set_rng_states(self._resume_states)
            self._resume_states = None
