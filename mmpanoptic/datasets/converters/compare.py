"""Compare two COCO panoptic sets of the same images segment by segment
(a conversion of ours against a released panoptic set)."""
import os.path as osp
from typing import List, Optional

import numpy as np

from mmpanoptic.fileio import read_json, read_panoptic_png


def compare_panoptic(ours_json: str, ours_dir: str, ref_json: str, ref_dir: str,
                     limit: Optional[int] = None) -> List[str]:
    """Differences between two COCO panoptic sets of the same images (our
    conversion vs a released panoptic set): per image, segments matched by
    their pixels must have the same category, area and crowd flag; each
    difference is one line naming the image and the segments."""
    def load(path):
        data = read_json(path, 'panoptic JSON')
        return data, {a['image_id']: a for a in data['annotations']}

    ours, ours_anns = load(ours_json)
    ref, ref_anns = load(ref_json)
    diffs = []
    cat_ours = {c['id']: (c['name'], int(c['isthing'])) for c in ours['categories']}
    cat_ref = {c['id']: (c['name'], int(c.get('isthing', 0))) for c in ref['categories']}
    for cid in sorted(set(cat_ours) | set(cat_ref)):
        if cat_ours.get(cid, (None, None))[1] != cat_ref.get(cid, (None, None))[1]:
            diffs.append(f'category {cid}: ours {cat_ours.get(cid)}, reference {cat_ref.get(cid)}')
    for image_id in sorted(set(ours_anns) | set(ref_anns), key=str)[:limit]:
        a, b = ours_anns.get(image_id), ref_anns.get(image_id)
        if a is None or b is None:
            diffs.append(f'image {image_id}: only in {"the reference" if a is None else "ours"}')
            continue
        where = f'image {image_id}'
        pa = read_panoptic_png(osp.join(ours_dir, a['file_name']), where)
        pb = read_panoptic_png(osp.join(ref_dir, b['file_name']), where)
        if pa.shape != pb.shape:
            diffs.append(f'image {image_id}: ours {pa.shape}, reference {pb.shape}')
            continue
        sa = {s['id']: s for s in a['segments_info']}
        sb = {s['id']: s for s in b['segments_info']}
        key = pa.astype(np.int64) * (1 << 24) + pb
        pairs, counts = np.unique(key, return_counts=True)
        for pair, n in zip(pairs.tolist(), counts.tolist()):
            ia, ib = pair >> 24, pair & 0xFFFFFF
            x, y = sa.get(ia), sb.get(ib)
            if x is None and y is None:
                continue
            if x is None or y is None:
                which = 'ours' if y is None else 'the reference'
                seg = x or y
                diffs.append(f'image {image_id}: {n} pixels of segment {seg["id"]} (category '
                             f'{seg["category_id"]}) are VOID except in {which}')
                continue
            if x['category_id'] != y['category_id'] or x['area'] != n or y['area'] != n \
                    or int(x.get('iscrowd', 0)) != int(y.get('iscrowd', 0)):
                diffs.append(f'image {image_id}: segment {ia} (category {x["category_id"]}, '
                             f'area {x["area"]}, crowd {x.get("iscrowd", 0)}) vs reference '
                             f'segment {ib} (category {y["category_id"]}, area {y["area"]}, '
                             f'crowd {y.get("iscrowd", 0)}) share {n} pixels')
    return diffs
