"""Every fault and bad-input case the tests provoke, with the message a user
sees.  The tests named here check their message against ``message`` (a
template: ``{...}`` stands for the file, image, number... of the case), and
``tools/misc/make_fault_table.py`` writes ``docs/faults.md`` from this list
(``--check``, run by the default tier, says when the page is stale)."""
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Fault:
    area: str
    probe: str
    before: str
    message: str
    test: str

    def pattern(self) -> str:
        parts = re.split(r'\{[^}]*\}', self.message)
        return '.*?'.join(re.escape(p) for p in parts)

    def found_in(self, text: str) -> bool:
        return re.search(self.pattern(), text, re.S) is not None


F = 'tests/test_engine/test_faults.py::'
FAULTS = {
    'kill_in_save': Fault(
        'training', '`kill -9` while a checkpoint is written (`max_keep_ckpts=1`), and '
        'between its write and its rename',
        'a truncated checkpoint, its predecessor already deleted, `last_checkpoint` naming '
        'the deleted one: `--resume` failed',
        '(nothing to read: the previous checkpoint and `last_checkpoint` stay whole, '
        '`--resume` continues from them)',
        F + 'test_killed_and_resumed_run_ends_with_the_same_weights'),
    'resume_exact': Fault(
        'training', 'a run killed 3 times (in saves and between them) and resumed each time',
        'weights off by up to 0.14 from an uninterrupted run (torch\'s random state was not '
        'saved)',
        '(nothing to read: the final weights equal the uninterrupted run\'s bit for bit)',
        F + 'test_killed_and_resumed_run_ends_with_the_same_weights'),
    'damaged_test': Fault(
        'training', 'a truncated checkpoint given to `tools/test.py`',
        'torch\'s `PytorchStreamReader failed reading zip archive` traceback',
        'error: checkpoint {file}: damaged or not a torch checkpoint (no zip directory at its '
        'end: truncated by an interrupted write or copy?)',
        F + 'test_damaged_checkpoints_are_named_and_resume_falls_back'),
    'damaged_resume': Fault(
        'training', 'a truncated checkpoint given to `--resume CKPT`',
        'the same traceback',
        'error: --resume {file}: damaged or not a torch checkpoint {why}',
        F + 'test_damaged_checkpoints_are_named_and_resume_falls_back'),
    'damaged_auto_resume': Fault(
        'training', '`--resume` when the newest checkpoint is damaged',
        'the same traceback',
        '--resume: last_checkpoint names {file}, which is damaged or missing; resuming from '
        '{older file}',
        F + 'test_damaged_checkpoints_are_named_and_resume_falls_back'),
    'nan': Fault(
        'training', 'a NaN pixel in one input batch (or a NaN / inf loss)',
        '`loss: nan` from then on, exit 0, a checkpoint with 161 of 181 tensors non-finite',
        'error: non-finite loss nan at iteration {n} (non-finite loss terms: {terms}); batch '
        'images: {files}. Stopped before the optimizer step: the weights and the last '
        'checkpoint are the last good ones',
        F + 'test_nan_stops_the_run_before_the_weights_change'),
    'stalled_rank': Fault(
        'training', 'one of two gloo ranks stopped (`kill -STOP`) mid-training',
        'the other rank waited torch\'s default 30 minutes',
        '(torch\'s gloo timeout error on the waiting rank after `env_cfg.dist_cfg.timeout`, '
        '300 s by default; it exits non-zero, and torchrun stops the rest)',
        'tests/test_e2e/test_distributed.py::test_a_stalled_rank_fails_the_other_within_'
        'the_timeout'),
    'truncated_png': Fault(
        'data', 'a truncated panoptic PNG in the training set',
        'the run stopped when the image was first sampled, up to an epoch in',
        '{png}: image {id} ({file}): {decoder error}', F + 'test_data_faults_are_found_before_'
        'training'),
    'thing_not_in_json': Fault(
        'data', 'a segment in a PNG that its JSON does not list',
        'the image was silently dropped (`filter_empty_gt`)',
        '{png}: image {id} ({file}): segment {id}: {n} pixels with this id have no '
        'segments_info entry',
        F + 'test_data_faults_are_found_before_training'),
    'truncated_image': Fault(
        'data', 'a truncated image file', 'the validator passed it (it read the header only)',
        '{image}: image {id} ({file}): image file is truncated',
        F + 'test_data_faults_are_found_before_training'),
    'empty_dataset': Fault(
        'data', 'a training set whose images have no segment but crowds',
        '`ValueError: need at least one array to concatenate`',
        '{json}: {n} annotations, none with a segment that is not a crowd: nothing to train on',
        F + 'test_data_faults_are_found_before_training'),
    'pq_dead_worker': Fault(
        'evaluation', 'a `pq_eval.py --nproc 2` worker killed', 'the evaluation hung forever',
        'a worker process died while evaluating (killed, or out of memory?); nothing was '
        'reported. Run again, with fewer processes (--nproc {n} now) if memory is short',
        F + 'test_pq_eval_dead_worker_and_bad_ground_truth'),
    'pq_empty_gt': Fault(
        'evaluation', '`pq_eval.py` on a ground truth without annotations',
        'exit 0 with null results',
        'gt JSON {file}: no annotations (an empty ground truth has no PQ)',
        F + 'test_pq_eval_dead_worker_and_bad_ground_truth'),
    'pq_no_isthing': Fault(
        'evaluation', '`pq_eval.py` with categories without `isthing`',
        'a `KeyError` after the whole evaluation (the issue\'s probe); at 9abeb2d every class '
        'silently stuff (Things N = 0), exit 0',
        'gt JSON {file}: category {category} lacks "isthing" (1 for a class with instances, '
        '0 for stuff)',
        F + 'test_pq_eval_dead_worker_and_bad_ground_truth'),
    'pkl_code': Fault(
        'conversion', 'a crafted detectron2 `.pkl` that runs a command when unpickled',
        'the command ran (`pickle.load`)',
        'error: {file}: refuses to unpickle posix.system (a detectron2 .pkl holds numpy '
        'arrays only; this file would run code)',
        'tests/test_models/test_checkpoint_loading.py::test_detectron2_pkl_is_read_with_a_'
        'restricted_unpickler'),
}
