import pytest
import torch
from mmengine.structures import InstanceData

from mmpanoptic.models.fusion import HeuristicFusion, heuristic_merge
from mmpanoptic.registry import MODELS


def _sem(h, w, stuff_channel_map):
    """(S + 1, H, W) logits whose argmax is the given channel map."""
    num = int(stuff_channel_map.max()) + 2
    return torch.nn.functional.one_hot(stuff_channel_map, num).permute(2, 0, 1).float()


def test_paste_order_overlap_and_score():
    h, w = 4, 8
    masks = torch.zeros(3, h, w, dtype=torch.bool)
    masks[0, :, 0:4] = True  # score 0.9
    masks[1, :, 2:6] = True  # score 0.8: half covered -> kept, right half only
    masks[2, :, 0:3] = True  # score 0.7: fully covered -> dropped
    sem = _sem(h, w, torch.zeros(h, w, dtype=torch.long))
    ids, info = heuristic_merge(masks,
                                torch.tensor([0, 1, 0]),
                                torch.tensor([0.9, 0.8, 0.7]),
                                sem,
                                num_things=2,
                                overlap_thr=0.5,
                                stuff_area_limit=1)
    assert ids[0].tolist() == [1, 1, 1, 1, 2, 2, 3, 3]
    assert [(s['label'], s['isthing'], s['area']) for s in info] == \
        [(0, True, 16), (1, True, 8), (2, False, 8)]
    # Stricter overlap threshold drops instance 1 (50% covered > 0.4).
    ids, info = heuristic_merge(masks,
                                torch.tensor([0, 1, 0]),
                                torch.tensor([0.9, 0.8, 0.7]),
                                sem,
                                num_things=2,
                                overlap_thr=0.4,
                                stuff_area_limit=1)
    assert [s['label'] for s in info] == [0, 2]
    # Score threshold removes everything but the first.
    ids, info = heuristic_merge(masks,
                                torch.tensor([0, 1, 0]),
                                torch.tensor([0.9, 0.8, 0.7]),
                                sem,
                                num_things=2,
                                score_thr=0.85,
                                stuff_area_limit=1)
    assert [s['label'] for s in info] == [0, 2]


def test_stuff_area_limit_and_thing_channel_is_void():
    h, w = 4, 4
    chan = torch.zeros(h, w, dtype=torch.long)
    chan[:, 3] = 1  # stuff channel 1: 4 px
    chan[0, 0] = 2  # thing channel (S = 2) with no instance -> VOID
    sem = torch.nn.functional.one_hot(chan, 3).permute(2, 0, 1).float()
    ids, info = heuristic_merge(torch.zeros(0, h, w, dtype=torch.bool),
                                torch.zeros(0, dtype=torch.long),
                                torch.zeros(0),
                                sem,
                                num_things=5,
                                stuff_area_limit=5)
    assert [(s['label'], s['area']) for s in info] == [(5, 11)]  # channel 1 (4 px) dropped
    assert ids[0, 0] == 0 and (ids[:, 3] == 0).all()
    assert (ids == 1).sum() == 11


def test_registered_wrapper_and_bad_shapes():
    fusion = MODELS.build(dict(type='HeuristicFusion', num_things=1, stuff_area_limit=1))
    assert isinstance(fusion, HeuristicFusion)
    inst = InstanceData(masks=torch.ones(1, 3, 3, dtype=torch.bool),
                        labels=torch.tensor([0]),
                        scores=torch.tensor([0.99]))
    meta = [dict(img_shape=(3, 3), ori_shape=(3, 3))]
    out = fusion(dict(instances=[inst], sem_logits=[torch.zeros(2, 3, 3)]), meta)
    ids, info = out[0]['panoptic']
    assert (ids == 1).all() and info[0]['isthing'] and out[0]['instances'] is inst
    with pytest.raises(ValueError, match='instance masks are'):
        fusion(dict(instances=[inst], sem_logits=[torch.zeros(2, 4, 4)]), meta)
    with pytest.raises(KeyError, match=r"HeuristicFusion needs the model outputs \['sem_logits'\]"):
        fusion(dict(instances=[inst]), meta)


def test_channel_map_needs_num_stuff_and_keeps_thing_pixels_void():
    """An (H, W) map of channel indices: channel S is "any thing" even where
    no stuff channel index is larger (it used to become stuff label
    num_things + S, a class that does not exist)."""
    h, w = 4, 4
    chan = torch.zeros(h, w, dtype=torch.long)
    chan[:, 2:] = 3  # S = 3: "any thing", no instance here -> VOID
    empty = (torch.zeros(0, h, w, dtype=torch.bool), torch.zeros(0, dtype=torch.long),
             torch.zeros(0))
    with pytest.raises(ValueError, match='num_stuff'):
        heuristic_merge(*empty, chan, num_things=2, stuff_area_limit=1)
    ids, info = heuristic_merge(*empty, chan, num_things=2, stuff_area_limit=1, num_stuff=3)
    assert [(s['label'], s['area']) for s in info] == [(2, 8)]
    assert (ids[:, 2:] == 0).all() and (ids[:, :2] == 1).all()
    with pytest.raises(ValueError, match=r'in \[0, 3\]'):
        heuristic_merge(*empty, chan + 1, num_things=2, num_stuff=3)
