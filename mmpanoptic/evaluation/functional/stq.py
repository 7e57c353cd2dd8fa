"""Segmentation and Tracking Quality (Weber et al., NeurIPS 2021 datasets track).

``STQ = sqrt(AQ * IoU)`` with deeplab2's numpy ``STQuality`` conventions,
reproduced exactly (tested against its published test cases):

* labels are ``semantic << label_bit_shift | instance``; a ground-truth
  thing pixel with instance 0 is crowd: it is left out of the association
  term, for the ground truth and the prediction alike;
* IoU: a (C + 1) x (C + 1) confusion matrix per sequence when the ignore
  label is >= C (ignore mapped to C); the ground-truth ignore **row** is
  dropped, but the prediction ignore **column** stays, so predicting the
  ignore label on labelled pixels makes the ignore "class" count with IoU 0
  in the mean;
* AQ: per sequence, ``sum_g 1/|g| sum_p TPA(p, g) * IoU_id(p, g)`` over
  ground-truth tracks g (thing classes, non-crowd) and predicted tracks p
  (thing classes, outside the crowd region) -- a predicted track's size
  includes its pixels on ground-truth void; the total AQ divides the summed
  per-sequence sums by the total number of ground-truth tracks;
* mean IoU divides by the number of classes with a non-zero union.

What differs from deeplab2 is only how it is computed: per-frame counts are
kept as sorted arrays (one ``np.unique`` per frame instead of dict updates)
and AQ is summed over the present (g, p) pairs with ``np.bincount`` instead
of a double loop over all gt and pred tracks.
"""
from typing import Dict, Hashable, List, Optional, Sequence, Tuple

import numpy as np

_EPSILON = 1e-15


def _merge_counts(keys: List[np.ndarray], counts: List[np.ndarray]) -> Tuple[np.ndarray,
                                                                              np.ndarray]:
    if not keys:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    uniq, inverse = np.unique(np.concatenate(keys), return_inverse=True)
    return uniq, np.bincount(inverse, weights=np.concatenate(counts)).astype(np.int64)


class STQAccumulator:
    """Accumulates STQ statistics frame by frame, sequence by sequence.

    Args:
        num_classes: number of semantic classes C (labels ``0..C-1``).
        things: semantic labels of thing classes.
        ignore_label: semantic label of void pixels (255 in STEP data).
        label_bit_shift: labels are ``semantic << shift | instance``.
        offset: multiplier separating gt and pred ids in pair keys; must be
            at least ``C << shift`` (as in deeplab2).

    >>> acc = STQAccumulator(num_classes=2, things=[1], ignore_label=255)
    >>> car = (1 << 16) + 1
    >>> acc.update(np.array([[0, car]]), np.array([[0, car]]), 'seq')
    >>> round(acc.result()['stq'], 6)
    1.0
    """

    def __init__(self, *, num_classes: int, things: Sequence[int], ignore_label: int = 255,
                 label_bit_shift: int = 16, offset: int = 2**32,
                 groups: Optional[Dict[str, Sequence[int]]] = None) -> None:
        if offset < (num_classes << label_bit_shift):
            raise ValueError(f'offset {offset} is smaller than num_classes << label_bit_shift '
                             f'= {num_classes << label_bit_shift}')
        self.num_classes = num_classes
        self.things = np.asarray(sorted(things), dtype=np.int64)
        self.groups = {str(k): np.asarray(sorted(v), dtype=np.int64)
                       for k, v in (groups or {}).items()}
        self.ignore_label = ignore_label
        self.shift = label_bit_shift
        self.bit_mask = (1 << label_bit_shift) - 1
        self.offset = offset
        if ignore_label >= num_classes:
            self.size = num_classes + 1
            self.include = np.arange(num_classes)
        else:
            self.size = num_classes
            self.include = np.array([i for i in range(num_classes) if i != ignore_label])
        self.confusion: Dict[Hashable, np.ndarray] = {}
        self.tracks: Dict[Hashable, Dict[str, List[np.ndarray]]] = {}
        self.lengths: Dict[Hashable, int] = {}
        # Sequences closed with pop_sequence / added with add_summary.
        self.finished: Dict[Hashable, Dict] = {}

    def _semantic(self, y: np.ndarray) -> np.ndarray:
        sem = y >> self.shift
        if self.ignore_label > self.num_classes:
            sem = np.where(sem != self.ignore_label, sem, self.num_classes)
        return sem

    def update(self, y_true: np.ndarray, y_pred: np.ndarray, sequence_id: Hashable = 0) -> None:
        """Add one frame.

        Args:
            y_true, y_pred: (H, W) integer label maps, ``semantic << shift | instance``.
            sequence_id: frames of one sequence share it (tracks never cross
                sequences).
        """
        y_true = np.asarray(y_true, dtype=np.int64)
        y_pred = np.asarray(y_pred, dtype=np.int64)
        if y_true.shape != y_pred.shape:
            raise ValueError(f'sequence {sequence_id!r}: prediction is {y_pred.shape}, ground '
                             f'truth {y_true.shape}')
        sem_true, sem_pred = self._semantic(y_true), self._semantic(y_pred)
        for name, sem in (('ground-truth', sem_true), ('predicted', sem_pred)):
            if sem.size and (sem.min() < 0 or sem.max() >= self.size):
                raise ValueError(
                    f'sequence {sequence_id!r}, frame {self.lengths.get(sequence_id, 0)}: '
                    f'{name} semantic label {int(sem.max())} outside [0, {self.num_classes}) '
                    f'and not the ignore label {self.ignore_label}')
        cm = np.bincount((sem_true * self.size + sem_pred).ravel(),
                         minlength=self.size * self.size).reshape(self.size, self.size)
        if sequence_id in self.confusion:
            self.confusion[sequence_id] += cm
            self.lengths[sequence_id] += 1
        else:
            self.confusion[sequence_id] = cm.astype(np.int64)
            self.lengths[sequence_id] = 1
            self.tracks[sequence_id] = dict(gk=[], gc=[], pk=[], pc=[], ik=[], ic=[])

        gt_thing = np.isin(sem_true, self.things)
        pred_thing = np.isin(sem_pred, self.things)
        crowd = gt_thing & ((y_true & self.bit_mask) == 0)
        gt_thing &= ~crowd
        pred_thing &= ~crowd
        t = self.tracks[sequence_id]
        for key, values in (('g', y_true[gt_thing]), ('p', y_pred[pred_thing]),
                            ('i', y_true[gt_thing & pred_thing] * self.offset +
                             y_pred[gt_thing & pred_thing])):
            uniq, counts = np.unique(values, return_counts=True)
            t[key + 'k'].append(uniq)
            t[key + 'c'].append(counts)
            if len(t[key + 'k']) >= 16:  # keep memory per track, not per frame
                merged = _merge_counts(t[key + 'k'], t[key + 'c'])
                t[key + 'k'], t[key + 'c'] = [merged[0]], [merged[1]]

    def _aq_sums(self, sequence_id: Hashable) -> Dict[Optional[str], Tuple[float, int]]:
        """``{None: (aq_sum, tubes)}`` over all ground-truth tracks, plus
        the same over the tracks of each group's classes."""
        t = self.tracks[sequence_id]
        gt_ids, gt_size = _merge_counts(t['gk'], t['gc'])
        pr_ids, pr_size = _merge_counts(t['pk'], t['pc'])
        pair, tpa = _merge_counts(t['ik'], t['ic'])
        per_track = np.zeros(len(gt_ids))
        if len(pair):
            g = np.searchsorted(gt_ids, pair // self.offset)
            p = np.searchsorted(pr_ids, pair % self.offset)
            tpa = tpa.astype(np.float64)
            iou = tpa / (pr_size[p] + gt_size[g] - tpa)
            per_track = np.bincount(g, weights=tpa * iou, minlength=len(gt_ids)) / gt_size
        out = {None: (float(np.sum(per_track)), len(gt_ids))}
        for name, classes in self.groups.items():
            inside = np.isin(gt_ids >> self.shift, classes)
            out[name] = (float(np.sum(per_track[inside])), int(inside.sum()))
        return out

    @staticmethod
    def _mean_iou(confusion: np.ndarray, classes: Optional[np.ndarray] = None) -> float:
        """Mean IoU over the classes with a non-zero union (of ``classes``
        only, when given)."""
        inter = confusion.diagonal()
        unions = confusion.sum(0) + confusion.sum(1) - inter
        if classes is not None:
            inter, unions = inter[classes], unions[classes]
        with np.errstate(invalid='ignore', divide='ignore'):
            ious = inter.astype(np.double) / np.maximum(unions, _EPSILON).astype(np.double)
            count = np.count_nonzero(unions)
            return float(np.sum(ious) / (count if classes is None else max(count, 1)))

    def sequence_summary(self, sequence_id: Hashable) -> Dict:
        """What STQ needs of one sequence: ``id``, ``length``, its confusion
        matrix (ignored rows zeroed) and its association sums ``aq_sum`` /
        ``tubes``.  Small (C x C + 3 numbers): the unit that distributed
        evaluation gathers."""
        if sequence_id in self.finished:
            return self.finished[sequence_id]
        keep_rows = np.zeros(self.size, dtype=bool)
        keep_rows[self.include] = True
        sums = self._aq_sums(sequence_id)
        aq_sum, tubes = sums.pop(None)
        return dict(id=sequence_id, length=self.lengths[sequence_id],
                    confusion=self.confusion[sequence_id] * keep_rows[:, None],
                    aq_sum=aq_sum, tubes=tubes, group_aq=sums)

    def pop_sequence(self, sequence_id: Hashable) -> Dict:
        """Close a sequence: return its :meth:`sequence_summary` and free its
        per-frame data."""
        summary = self.sequence_summary(sequence_id)
        for table in (self.confusion, self.tracks, self.lengths, self.finished):
            table.pop(sequence_id, None)
        return summary

    def add_summary(self, summary: Dict) -> None:
        """Add a sequence closed elsewhere (e.g. on another process)."""
        seq = summary['id']
        if seq in self.confusion or seq in self.finished:
            raise ValueError(f'sequence {seq!r} is already in this accumulator: a sequence '
                             'must be evaluated whole in one place')
        self.finished[seq] = summary

    def result(self) -> Dict:
        """``stq``, ``aq``, ``iou`` and ``per_sequence`` (id, length, stq, aq,
        iou); with ``groups``, ``groups: {name: {stq, aq, iou}}``: STQ of a
        group of classes, its IoU the mean over the group's classes (of the
        same confusion matrix) and its AQ the mean over the ground-truth
        tracks of the group's classes (against all predicted tracks, as AQ)."""
        per_sequence = []
        aq_sums, tubes = [], []
        group_sums = {name: [0.0, 0] for name in self.groups}
        total = np.zeros((self.size, self.size), dtype=np.int64)
        sequences = list(self.confusion) + [s for s in self.finished if s not in self.confusion]
        for seq in sequences:
            summary = self.sequence_summary(seq)
            confusion = summary['confusion']
            total += confusion
            aq_sums.append(summary['aq_sum'])
            tubes.append(summary['tubes'])
            for name, (a, n) in summary.get('group_aq', {}).items():
                group_sums[name][0] += a
                group_sums[name][1] += n
            aq = summary['aq_sum'] / max(summary['tubes'], _EPSILON)
            iou = self._mean_iou(confusion)
            per_sequence.append(dict(id=seq, length=summary['length'], aq=aq, iou=iou,
                                     stq=float(np.sqrt(aq * iou))))
        aq = float(np.sum(aq_sums) / max(np.sum(tubes), _EPSILON))
        iou = self._mean_iou(total)
        out = dict(stq=float(np.sqrt(aq * iou)), aq=aq, iou=iou, per_sequence=per_sequence)
        if self.groups:
            out['groups'] = {}
            for name, classes in self.groups.items():
                g_aq = group_sums[name][0] / max(group_sums[name][1], _EPSILON)
                g_iou = self._mean_iou(total, classes)
                out['groups'][name] = dict(stq=float(np.sqrt(g_aq * g_iou)), aq=g_aq,
                                           iou=g_iou)
        return out

