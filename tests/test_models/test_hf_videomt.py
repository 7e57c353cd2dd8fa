"""VidEoMT from the hub: a small random transformers
``VideomtForUniversalSegmentation`` saved as a hub folder, converted by
``tools/model_converters/hf_to_mmpanoptic.py`` into a video config
(``VidEoMT`` + ``QueryPropagationTracker``), and compared with transformers:
logits of every frame to 1e-4 (the queries propagated frame to frame), and
``VideoInferencer``'s per-frame segments against transformers' model +
``VideomtVideoProcessor.post_process_panoptic_segmentation``.

``VideomtVideoProcessor`` resizes with torchvision, which cannot run with the
CPU torch here; its resize is torchvision's antialiased bilinear kernel on
uint8 frames, which is ``F.interpolate(..., antialias=True)``: the reference
pixels are made with that (and the processor's rescale and normalisation);
its post-processing runs as it is."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from .test_hf_checkpoints import LABELS, THINGS, convert, image, transformers

MEAN, STD = torch.tensor([0.485, 0.456, 0.406]), torch.tensor([0.229, 0.224, 0.225])


def videomt(seed=0, size=64):
    from transformers.models.videomt.video_processing_videomt import VideomtVideoProcessor
    torch.manual_seed(seed)
    cfg = transformers.VideomtConfig(
        hidden_size=64, num_hidden_layers=4, num_attention_heads=4, image_size=size,
        patch_size=8, num_blocks=2, num_queries=14, num_register_tokens=4,
        num_upscale_blocks=1, id2label=LABELS, label2id={v: k for k, v in LABELS.items()})
    return (transformers.VideomtForUniversalSegmentation(cfg).eval(),
            VideomtVideoProcessor(size={'height': size, 'width': size}))


def frames(n=3, seed=0):
    """A short video: blobs drifting over a noisy background."""
    base = image(seed)
    return [np.roll(base, shift=3 * t, axis=1) for t in range(n)]


def reference_pixels(video, size=64):
    """The video processor's pixels: torchvision's antialiased bilinear resize
    of the uint8 frames, then / 255 and ImageNet's mean / std."""
    x = torch.from_numpy(np.stack(video)).permute(0, 3, 1, 2)
    x = F.interpolate(x, size=(size, size), mode='bilinear', align_corners=False, antialias=True)
    return ((x.float() / 255) - MEAN[:, None, None]) / STD[:, None, None]


def save(model, proc, folder):
    model.save_pretrained(folder)
    proc.save_pretrained(folder)


def test_videomt_logits_equal_transformers_frame_after_frame(tmp_path):
    from mmengine.config import Config
    from mmengine.runner import load_checkpoint

    from mmpanoptic.registry import MODELS
    from mmpanoptic.utils import register_all_modules
    model, proc = videomt()
    save(model, proc, tmp_path / 'hf')
    convert(tmp_path / 'hf', tmp_path / 'out', '--things', THINGS)
    register_all_modules()
    cfg = Config.fromfile(str(tmp_path / 'out' / 'config.py'))
    assert cfg.model.type == 'VideoPanopticSegmentor' and cfg.model.detector.type == 'VidEoMT'
    ours = MODELS.build(cfg.model)
    ckpt = load_checkpoint(ours, str(tmp_path / 'out' / 'weights.pth'), map_location='cpu',
                           strict=True)
    ours.eval()
    pixels = reference_pixels(frames())
    with torch.no_grad():
        ref = model(pixel_values_videos=pixels[None])
        cls, masks = ours.detector.video_outputs(pixels)
    rows = ckpt['meta']['dataset_meta']['category_ids'] + [len(LABELS)]
    torch.testing.assert_close(cls, ref.class_queries_logits[..., rows], atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(masks, ref.masks_queries_logits, atol=1e-4, rtol=1e-4)
    # propagation matters: frame 2 from frame 1's queries is not frame 2 alone
    with torch.no_grad():
        alone = model(pixel_values_videos=pixels[None, 2:])
    assert (alone.class_queries_logits - ref.class_queries_logits[2:]).abs().max() > 1e-3


def test_video_inferencer_segments_equal_transformers(tmp_path):
    """Per frame: the same segments (label, IoU >= 0.99, none extra or
    missing) as transformers' processor with the stuff labels fused (the
    tracker gives each stuff class one id, the video metrics' convention);
    across frames: a query's segment keeps its id (the query index is the
    track)."""
    from mmpanoptic.apis import VideoInferencer
    from mmpanoptic.testing.hf_reference import compare_segments, make_decisive
    model, proc = videomt()
    video = frames()
    pixels = reference_pixels(video)
    make_decisive(model, pixels)
    save(model, proc, tmp_path / 'hf')
    convert(tmp_path / 'hf', tmp_path / 'out', '--things', THINGS)
    ours = list(VideoInferencer(str(tmp_path / 'out' / 'config.py'),
                                str(tmp_path / 'out' / 'weights.pth'))(video))
    with torch.no_grad():
        outputs = model(pixel_values_videos=pixels[None])
    stuff = {i for i in range(len(LABELS)) if str(i) not in THINGS.split(',')}
    ref = proc.post_process_panoptic_segmentation(outputs, label_ids_to_fuse=stuff,
                                                  target_sizes=[f.shape[:2] for f in video])
    assert len(ours) == len(video)
    for t, (mine, theirs) in enumerate(zip(ours, ref)):
        assert len(theirs['segments_info']) >= 6, (t, theirs['segments_info'])
        assert compare_segments(mine['ids'], mine['segments_info'], theirs['segmentation'],
                                theirs['segments_info']) is None, t
    things = [{(s['query'], s['id']) for s in r['segments_info'] if s['isthing']} for r in ours]
    ids_of = {}
    for frame in things:
        for query, tid in frame:
            assert ids_of.setdefault(query, tid) == tid  # the same query, the same id
    assert len(ids_of) >= 2


def test_video_inferencer_takes_files_and_refuses_image_configs(tmp_path):
    import cv2

    from mmpanoptic.apis import VideoInferencer
    model, proc = videomt()
    save(model, proc, tmp_path / 'hf')
    convert(tmp_path / 'hf', tmp_path / 'out', '--things', THINGS)
    folder = tmp_path / 'frames'
    folder.mkdir()
    for t, f in enumerate(frames(4)):
        cv2.imwrite(str(folder / f'{t:03d}.png'), f[..., ::-1])
    inf = VideoInferencer(str(tmp_path / 'out' / 'config.py'),
                          str(tmp_path / 'out' / 'weights.pth'))
    out = [r['frame'] for r in inf(str(folder), max_frames=3)]
    assert out == [0, 1, 2] and inf.num_frames == 4 and inf.fps > 0
    with pytest.raises(FileNotFoundError, match='no .png / .jpg frames'):
        next(inf(str(tmp_path)))
    with pytest.raises(ValueError, match=r'frame 0: expected an \(H, W, 3\) uint8'):
        next(inf([np.zeros((4, 4), np.uint8)]))
    with pytest.raises(ValueError, match='not a video config'):
        VideoInferencer('configs/eomt/eomt_vit-t_toy.py')
