"""Check a COCO-panoptic dataset before training: every problem, with its file,
image and segment.

:func:`check_json` is the cheap part (the JSON alone: categories, images,
annotations, segments); ``tools/train.py`` runs it on the configured
annotation files before the first iteration.  :func:`check_pngs` decodes
every PNG and compares it with its ``segments_info`` (ids both ways, ``area``
and ``bbox`` against the pixels, size against the image entry) and, given the
images folder, checks that each image exists with the size the JSON says.
The CLI is ``tools/misc/validate_panoptic_dataset.py``.
"""
import os.path as osp
from collections import Counter
from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional, Tuple

from mmpanoptic.fileio import ID_MASK, PanopticFileError, read_json, read_png_words
from mmpanoptic.structures import segment_pixels


@dataclass
class Problem:
    """One finding: ``kind`` (a short fixed phrase, for the summary), where
    (``file``, ``image``, ``segment``) and what (``message``)."""
    kind: str
    file: str
    message: str
    image: Optional[object] = None
    segment: Optional[int] = None

    def __str__(self) -> str:
        where = [self.file]
        if self.image is not None:
            where.append(f'image {self.image}')
        if self.segment is not None:
            where.append(f'segment {self.segment}')
        return f'{": ".join(map(str, where))}: {self.message}'


def load_json(path: str) -> Tuple[Optional[dict], List[Problem]]:
    """The JSON, or None and the problem that prevents reading it."""
    if not osp.isfile(path):
        return None, [Problem('missing json', path, 'file not found')]
    try:
        data = read_json(path)
    except PanopticFileError as e:
        return None, [Problem('invalid json', path, 'not valid JSON: ' + str(e).split(': ', 1)[-1])]
    need = [k for k in ('images', 'annotations', 'categories')
            if not isinstance(data, dict) or not isinstance(data.get(k), list)]
    if need:
        return None, [Problem('invalid json', path,
                              f'not COCO panoptic: needs the lists {need}')]
    return data, []


def _image_name(ann: dict) -> str:
    return f'{ann.get("image_id")} ({ann.get("file_name")})'


def check_json(data: dict, path: str) -> List[Problem]:
    """Every JSON-level problem of a loaded COCO-panoptic dict."""
    problems: List[Problem] = []
    add = problems.append
    cats: Dict[object, dict] = {}
    for k, cat in enumerate(data['categories']):
        if not isinstance(cat, dict) or 'id' not in cat:
            add(Problem('bad category', path, f'category #{k} has no "id": {cat!r}'[:200]))
            continue
        if cat['id'] in cats:
            add(Problem('duplicate category id', path, f'category id {cat["id"]} appears twice'))
        cats[cat['id']] = cat
        if 'isthing' not in cat:
            add(Problem('category without isthing', path,
                        f'category {cat["id"]} ({cat.get("name")}) has no "isthing"'))
        elif cat['isthing'] not in (0, 1, True, False):
            add(Problem('category without isthing', path,
                        f'category {cat["id"]} has isthing={cat["isthing"]!r} (0 or 1)'))
    images: Dict[object, dict] = {}
    for k, img in enumerate(data['images']):
        if not isinstance(img, dict) or 'id' not in img:
            add(Problem('bad image entry', path, f'image #{k} has no "id"'))
            continue
        if img['id'] in images:
            add(Problem('duplicate image id', path, f'image id {img["id"]} appears twice'))
        images[img['id']] = img
    annotated = set()
    for k, ann in enumerate(data['annotations']):
        if not isinstance(ann, dict) or any(x not in ann for x in
                                            ('image_id', 'file_name', 'segments_info')):
            add(Problem('bad annotation', path, f'annotation #{k} needs image_id, file_name '
                        f'and segments_info: {str(ann)[:120]}'))
            continue
        name = _image_name(ann)
        if ann['image_id'] not in images:
            add(Problem('annotation of unknown image', path,
                        f'image_id {ann["image_id"]} is not in "images"', name))
        if ann['image_id'] in annotated:
            add(Problem('duplicate annotation', path, 'the image has two annotations', name))
        annotated.add(ann['image_id'])
        seen = set()
        for seg in ann['segments_info']:
            sid = seg.get('id') if isinstance(seg, dict) else None
            if sid is None:
                add(Problem('bad segment', path, f'segment without "id": {seg!r}'[:200], name))
                continue
            if sid in seen:
                add(Problem('duplicate segment id', path, 'the id appears twice in '
                            'segments_info', name, sid))
            seen.add(sid)
            if sid == 0:
                add(Problem('bad segment', path, 'id 0 is VOID and cannot be a segment', name,
                            sid))
            if seg.get('category_id') not in cats:
                add(Problem('unknown category id', path,
                            f'category_id {seg.get("category_id")!r} is not in "categories"',
                            name, sid))
            if seg.get('iscrowd', 0) not in (0, 1, True, False):
                add(Problem('bad iscrowd', path, f'iscrowd={seg["iscrowd"]!r} (0 or 1)', name,
                            sid))
            for key in ('area', 'bbox'):
                if key not in seg:
                    add(Problem(f'segment without {key}', path, f'no "{key}"', name, sid))
    for img_id, img in images.items():
        if img_id not in annotated:
            add(Problem('image without annotation', path,
                        'in "images" but has no annotation', f'{img_id} ({img.get("file_name")})'))
    return problems


def _bbox_differs(given, actual) -> bool:
    try:
        return len(given) != 4 or any(abs(float(g) - a) > 1e-6 for g, a in zip(given, actual))
    except (TypeError, ValueError):
        return True


def check_one_png(ann: dict, image: Optional[dict], png_dir: str,
                  images_dir: Optional[str] = None) -> List[Problem]:
    """Problems of one annotation's PNG (and image file)."""
    problems: List[Problem] = []
    name = _image_name(ann)
    png = osp.join(png_dir, ann['file_name'])
    if image is not None and images_dir:
        img_path = osp.join(images_dir, image.get('file_name', ''))
        if not osp.isfile(img_path):
            problems.append(Problem('missing image file', img_path, 'image file not found',
                                    name))
        else:
            from PIL import Image
            try:
                with Image.open(img_path) as im:
                    size = im.size
                    im.load()  # the whole file: a truncated image fails here
                if (image.get('width'), image.get('height')) != size:
                    problems.append(Problem(
                        'image size mismatch', img_path, f'the image is {size[0]}x{size[1]} '
                        f'(WxH), the JSON says {image.get("width")}x{image.get("height")}',
                        name))
            except OSError as e:
                problems.append(Problem('unreadable image', img_path, str(e), name))
    if not osp.isfile(png):
        return problems + [Problem('missing png', png, 'PNG not found', name)]
    try:
        ids = read_png_words(png, name) & ID_MASK
    except PanopticFileError as e:
        return problems + [Problem('unreadable png', png, str(e).split(': ', 1)[-1], name)]
    if image is not None and 'height' in image and 'width' in image \
            and ids.shape != (image['height'], image['width']):
        problems.append(Problem('png size mismatch', png,
                                f'the PNG is {ids.shape[1]}x{ids.shape[0]} (WxH), the image '
                                f'entry says {image["width"]}x{image["height"]}', name))
    pixels = segment_pixels(ids)
    listed = {}
    for seg in ann['segments_info']:
        if isinstance(seg, dict) and 'id' in seg:
            listed[seg['id']] = seg
    for sid in sorted(pixels):
        if sid != 0 and sid not in listed:
            problems.append(Problem('id in png not in segments_info', png,
                                    f'{pixels[sid][0]} pixels with this id have no '
                                    'segments_info entry', name, sid))
    for sid, seg in listed.items():
        if sid not in pixels:
            problems.append(Problem('segment not in png', png, 'in segments_info but no '
                                    'pixel of the PNG has this id', name, sid))
            continue
        area, box = pixels[sid]
        if 'area' in seg and seg['area'] != area:
            problems.append(Problem('area mismatch', png, f'area is {seg["area"]} in the JSON, '
                                    f'{area} pixels in the PNG', name, sid))
        if 'bbox' in seg and _bbox_differs(seg['bbox'], box):
            problems.append(Problem('bbox mismatch', png, f'bbox is {seg["bbox"]} in the JSON, '
                                    f'{box} from the PNG', name, sid))
    return problems


def _check_chunk(args) -> List[Problem]:
    chunk, png_dir, images_dir = args
    out = []
    for ann, image in chunk:
        out += check_one_png(ann, image, png_dir, images_dir)
    return out


def check_pngs(data: dict, png_dir: str, images_dir: Optional[str] = None,
               progress: bool = True, workers: int = 0) -> Iterable[Problem]:
    """Problems of every annotation's PNG (and, with ``images_dir``, image
    file, decoded in full): a generator, with a progress bar.  ``workers``
    > 1 spreads the images over that many processes (chunks of 32)."""
    images = {img.get('id'): img for img in data['images'] if isinstance(img, dict)}
    anns = [a for a in data['annotations'] if isinstance(a, dict) and 'file_name' in a
            and 'segments_info' in a]
    pairs = [(a, images.get(a.get('image_id'))) for a in anns]
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=len(anns), unit='image', desc=f'checking {osp.basename(png_dir)}')
    if workers > 1 and len(pairs) > 64:
        from concurrent.futures import ProcessPoolExecutor
        chunks = [pairs[i:i + 32] for i in range(0, len(pairs), 32)]
        with ProcessPoolExecutor(workers) as pool:
            for chunk, found in zip(chunks, pool.map(
                    _check_chunk, [(c, png_dir, images_dir) for c in chunks])):
                yield from found
                if bar is not None:
                    bar.update(len(chunk))
    else:
        for ann, image in pairs:
            yield from check_one_png(ann, image, png_dir, images_dir)
            if bar is not None:
                bar.update()
    if bar is not None:
        bar.close()


def validate_files(json_path: str, png_dir: Optional[str] = None,
                   images_dir: Optional[str] = None, progress: bool = True) -> List[Problem]:
    """Every problem of a COCO panoptic set: the JSON, then (with
    ``png_dir``) every PNG and, with ``images_dir``, every image."""
    data, problems = load_json(json_path)
    if data is not None:
        problems += check_json(data, json_path)
        if png_dir is not None:
            problems += list(check_pngs(data, png_dir, images_dir, progress=progress))
    return problems


def summary_table(problems: List[Problem]) -> str:
    """Counts per kind of problem, as a text table."""
    counts = Counter(p.kind for p in problems)
    width = max([len(k) for k in counts] + [len('problem')])
    lines = [f'{"problem":{width}s}  count', f'{"-" * width}  -----']
    lines += [f'{k:{width}s}  {n:5d}' for k, n in sorted(counts.items())]
    lines.append(f'{"total":{width}s}  {len(problems):5d}')
    return '\n'.join(lines)


def dataset_annotation_files(dataset_cfg) -> List[Tuple[str, str]]:
    """``(ann_file, png_dir)`` of the COCO-panoptic datasets in a dataloader's
    ``dataset`` config (wrappers such as RepeatDataset / ConcatDataset followed)."""
    return [(ann, seg) for ann, seg, _ in dataset_files(dataset_cfg)]


def dataset_files(dataset_cfg) -> List[Tuple[str, str, str]]:
    """``(ann_file, png_dir, image_dir)`` of the COCO-panoptic datasets in a
    dataloader's ``dataset`` config (wrappers followed)."""
    found = []

    def visit(cfg):
        if not isinstance(cfg, dict):
            return
        for key in ('dataset', 'datasets'):
            inner = cfg.get(key)
            for d in inner if isinstance(inner, (list, tuple)) else [inner]:
                visit(d)
        ann = cfg.get('ann_file')
        if ann:
            root = cfg.get('data_root') or ''
            prefix = cfg.get('data_prefix') or {}
            found.append((osp.join(root, ann), osp.join(root, prefix.get('seg', '')),
                          osp.join(root, prefix.get('img', ''))))
    visit(dataset_cfg)
    return found


def check_config_annotations(cfg, loaders=('train_dataloader', 'val_dataloader'), *,
                             files: bool = False, progress: bool = True, workers: int = 0
                             ) -> Tuple[List[str], List[Problem]]:
    """Problems of the COCO-panoptic annotation files a config trains and
    validates on (what ``tools/train.py`` checks on start): the JSON, the
    model's class counts against each file's categories, an empty training
    set, and with ``files`` every PNG against its ``segments_info`` and every
    image decoded in full (``workers`` processes, a progress bar).

    Files that are missing or not COCO-panoptic JSON are left to the dataset
    (it raises its own error); returns ``(checked files, problems)``.
    """
    checked, problems = [], []
    for loader in loaders:
        dataset = (cfg.get(loader) or {}).get('dataset')
        for ann_file, png_dir, img_dir in dataset_files(dataset):
            if not ann_file.endswith('.json') or not osp.isfile(ann_file) \
                    or ann_file in checked:
                continue
            data, found = load_json(ann_file)
            checked.append(ann_file)
            if data is None:
                problems += [p for p in found if p.kind == 'invalid json'
                             and 'not valid JSON' in p.message]
                continue
            json_problems = check_json(data, ann_file)
            problems += json_problems
            problems += _check_class_counts(cfg, data, ann_file)
            if loader == 'train_dataloader':
                problems += _check_not_empty(data, ann_file)
            if files and not json_problems and osp.isdir(png_dir):
                problems += list(check_pngs(data, png_dir,
                                            img_dir if osp.isdir(img_dir) else None,
                                            progress=progress, workers=workers))
    return checked, problems


def _check_not_empty(data: dict, path: str) -> List[Problem]:
    """A training set needs at least one image with a segment that is not a crowd."""
    usable = sum(1 for a in data['annotations'] if isinstance(a, dict) and any(
        isinstance(s, dict) and not s.get('iscrowd', 0) for s in a.get('segments_info', [])))
    if usable:
        return []
    return [Problem('empty dataset', path,
                    f'{len(data["annotations"])} annotations, none with a segment that is not '
                    'a crowd: nothing to train on')]


def _check_class_counts(cfg, data: dict, path: str) -> List[Problem]:
    """The model's class counts against the annotation file's categories
    (not for an open vocabulary: its class list follows each dataset)."""
    if 'TextEmbeddingClassifier' in cfg.pretty_text or 'VocabularyHook' in cfg.pretty_text:
        return []
    model = cfg.get('model') or {}
    model = model.get('detector', model)  # a video model wraps an image model
    want = tuple(model.get(k, cfg.get(k)) for k in ('num_things_classes', 'num_stuff_classes'))
    if None in want:
        return []
    cats = [c for c in data['categories'] if isinstance(c, dict)]
    things = sum(1 for c in cats if c.get('isthing'))
    have = (things, len(cats) - things)
    if have == tuple(want):
        return []
    return [Problem('class counts', path,
                    f'{have[0]} thing and {have[1]} stuff categories, but the model is '
                    f'configured for {want[0]} things and {want[1]} stuff '
                    '(num_things_classes / num_stuff_classes)')]
