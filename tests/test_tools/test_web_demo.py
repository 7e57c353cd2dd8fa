"""tools/demo/web_demo.py: its logic on a toy model, then the page itself in
headless Chromium (Debian's chromium + chromium-driver, installed by
tools/setup_env.sh; Selenium drives it, nothing is downloaded)."""
import os
import os.path as osp
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import cv2
import pytest
import torch
from mmengine.config import Config

from mmpanoptic.datasets import render_video
from mmpanoptic.registry import MODELS

from ..e2e_utils import ROOT, keep_all_video_config

sys.path.insert(0, osp.join(ROOT, 'tools', 'demo'))
import web_demo  # noqa: E402

OV_VIDEO = 'configs/video/mask2former_r18_text-minilm_online-tracker_toy-video.py'
CLOSED_IMAGE = 'configs/mask2former/mask2former_r18_toy.py'
# An untrained model labels at random: all but one class are things, so that
# tracks are made whatever it picks.
THINGS = 'box,ellipse,triangle,ring,grass,water,sand'
STUFF = 'sky'


@pytest.fixture(scope='module')
def toy(tmp_path_factory):
    """An untrained open-vocabulary toy video model that keeps every query
    (so there are segments to show), a closed toy image model, an image, a
    4-frame video and a file that is neither."""
    tmp = tmp_path_factory.mktemp('web_demo')
    keep_all = keep_all_video_config(tmp, OV_VIDEO)
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(str(keep_all)).model)
    torch.save(dict(state_dict=model.state_dict(), meta={}), tmp / 'ov.pth')
    closed = MODELS.build(Config.fromfile(osp.join(ROOT, CLOSED_IMAGE)).model)
    meta = dict(classes=('ellipse', 'box', 'triangle', 'ring', 'sky', 'grass', 'water', 'sand'),
                thing_classes=('ellipse', 'box', 'triangle', 'ring'))
    torch.save(dict(state_dict=closed.state_dict(), meta=dict(dataset_meta=meta)),
               tmp / 'closed.pth')
    frames = [f[0] for f in render_video(3, num_frames=4)]
    cv2.imwrite(str(tmp / 'scene.png'), frames[0][..., ::-1])
    writer = cv2.VideoWriter(str(tmp / 'clip.avi'), cv2.VideoWriter_fourcc(*'MJPG'), 5,
                             frames[0].shape[1::-1])
    for f in frames:
        writer.write(f[..., ::-1])
    writer.release()
    (tmp / 'notes.txt').write_text('not a picture')
    return tmp


def test_demo_segments_an_image_and_tracks_a_video_with_typed_classes(toy):
    demo = web_demo.WebDemo(str(toy / 'keep_all.py'), str(toy / 'ov.pth'), things=THINGS,
                            stuff=STUFF, max_frames=10)
    assert demo.is_video and demo.open_vocabulary
    typed = set(THINGS.split(',')) | {STUFF}
    overlay, gallery, segments, tracks, status = demo.run(str(toy / 'scene.png'), THINGS, STUFF)
    assert overlay.shape == (384, 384, 3) and gallery == [] and tracks == []
    assert segments and {row[1] for row in segments} <= typed
    assert 'scene.png' in status
    overlay, gallery, segments, tracks, status = demo.run(str(toy / 'clip.avi'), THINGS, STUFF)
    assert len(gallery) == 4 and '4 frames' in status
    assert tracks and all(row[1] in typed and 1 <= row[2] <= 4 for row in tracks)
    # Another vocabulary, no reload: the labels come from it.
    _, _, segments, _, _ = demo.run(str(toy / 'scene.png'), 'circle,square', 'floor')
    assert segments and {row[1] for row in segments} <= {'circle', 'square', 'floor'}


@pytest.mark.parametrize('upload,things,stuff,message', [
    ('notes.txt', THINGS, STUFF, 'notes.txt: cannot read this file as an image or a video'),
    ('clip.avi', '', ' ', 'The vocabulary is empty'),
    ('missing.png', THINGS, STUFF, 'missing.png: the file is empty or missing'),
    (None, THINGS, STUFF, 'Upload an image or a video first'),
    ('scene.png', 'box,box', STUFF, "classes given twice: ['box']"),
])
def test_demo_says_what_is_wrong(toy, upload, things, stuff, message):
    demo = web_demo.WebDemo(str(toy / 'keep_all.py'), str(toy / 'ov.pth'), things=THINGS,
                            stuff=STUFF, max_frames=10)
    with pytest.raises(web_demo.DemoError, match=message.replace('[', r'\[').replace(']', r'\]')):
        demo.run(str(toy / upload) if upload else None, things, stuff)


def test_demo_refuses_a_long_video_and_video_on_an_image_model_and_new_classes_on_a_closed_one(toy):
    demo = web_demo.WebDemo(str(toy / 'keep_all.py'), str(toy / 'ov.pth'), things=THINGS,
                            stuff=STUFF, max_frames=3)
    with pytest.raises(web_demo.DemoError, match='clip.avi: the video has 4 frames; this demo '
                                                 'runs the model on at most 3'):
        demo.run(str(toy / 'clip.avi'), THINGS, STUFF)
    closed = web_demo.WebDemo(osp.join(ROOT, CLOSED_IMAGE), str(toy / 'closed.pth'))
    assert not closed.is_video and not closed.open_vocabulary
    assert closed.vocabulary == ('ellipse, box, triangle, ring', 'sky, grass, water, sand')
    with pytest.raises(web_demo.DemoError, match='clip.avi is a video, and '
                                                 'mask2former_r18_toy.py is an image model'):
        closed.run(str(toy / 'clip.avi'), *closed.vocabulary)
    with pytest.raises(web_demo.DemoError, match='has a fixed class layer'):
        closed.run(str(toy / 'scene.png'), 'car', 'road')
    overlay, _, segments, _, _ = closed.run(str(toy / 'scene.png'), *closed.vocabulary)
    assert overlay.ndim == 3


def browser_tools():
    """(chromium, chromedriver) paths, or the reason they are missing."""
    missing = [m for m in ('gradio', 'selenium') if not _importable(m)]
    chromium = shutil.which('chromium') or shutil.which('chromium-browser')
    driver = shutil.which('chromedriver')
    if not chromium:
        missing.append('chromium (apt)')
    if not driver:
        missing.append('chromedriver (apt: chromium-driver)')
    return chromium, driver, missing


def _importable(name):
    try:
        __import__(name)
        return True
    except ImportError:
        return False


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_page_in_headless_chromium(toy, tmp_path):
    """The user's path: start the page, upload an image, type classes,
    click, see the overlay and the segment list; then a video with its
    tracks; then an empty vocabulary's message."""
    chromium, driver, missing = browser_tools()
    if missing:
        if os.environ.get('CI'):
            pytest.fail(f'tools/setup_env.sh should have installed {missing}')
        pytest.skip(f'missing {missing} (tools/setup_env.sh installs them)')
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    port = free_port()
    env = dict(os.environ, GRADIO_ANALYTICS_ENABLED='False', PYTHONWARNINGS='ignore')
    log = open(tmp_path / 'server.log', 'w')
    server = subprocess.Popen(
        [sys.executable, 'tools/demo/web_demo.py', str(toy / 'keep_all.py'), str(toy / 'ov.pth'),
         '--things', 'box,ellipse', '--stuff', 'sky', '--port', str(port), '--max-frames', '10'],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    browser = None
    try:
        url = f'http://127.0.0.1:{port}'
        deadline = time.time() + 90
        while True:
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except OSError:
                assert server.poll() is None, (tmp_path / 'server.log').read_text()
                assert time.time() < deadline, 'the page did not start in 90 s'
                time.sleep(0.5)
        options = webdriver.ChromeOptions()
        for arg in ('--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
                    '--window-size=1400,1700'):
            options.add_argument(arg)
        options.binary_location = chromium
        browser = webdriver.Chrome(service=Service(driver), options=options)
        browser.get(url)
        wait = WebDriverWait(browser, 60)
        wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, '#segment'))

        def fill(elem_id, text):
            box = browser.find_element(By.CSS_SELECTOR, f'#{elem_id} textarea, #{elem_id} input')
            box.send_keys(Keys.CONTROL, 'a')  # clear() does not reach Gradio's state
            box.send_keys(Keys.DELETE)
            if text:
                box.send_keys(text)

        def segment(path, things, stuff, expect):
            """Upload, type, click; the status line once it shows ``expect``
            (Gradio shows a "processing" timer there meanwhile)."""
            if path:
                browser.find_element(By.CSS_SELECTOR, '#upload input[type=file]').send_keys(path)
                wait.until(lambda b: b.find_elements(
                    By.CSS_SELECTOR, f'#upload td.filename[aria-label="{osp.basename(path)}"]'))
            fill('things', things)
            fill('stuff', stuff)
            browser.find_element(By.CSS_SELECTOR, '#segment').click()

            def shown(b):
                text = b.find_element(By.CSS_SELECTOR, '#status').text
                return text if expect in text and 'processing' not in text else False
            return wait.until(shown)

        assert browser.find_element(By.CSS_SELECTOR, '#things textarea, #things input'
                                    ).get_attribute('value') == 'box, ellipse'
        status = segment(str(toy / 'scene.png'), THINGS, STUFF, 'scene.png:')
        assert 'segment' in status, status
        wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, '#overlay img'))
        table = browser.find_element(By.CSS_SELECTOR, '#segments').text
        names = set(THINGS.split(',')) | {STUFF}
        assert any(n in table for n in names), table
        browser.save_screenshot(str(tmp_path / 'page.png'))

        # Remove the image, upload the video.
        browser.find_element(By.CSS_SELECTOR, '#upload button[aria-label="Clear"]').click()
        status = segment(str(toy / 'clip.avi'), THINGS, STUFF, 'clip.avi:')
        assert '4 frames' in status and 'tracked object' in status, status
        tracks = browser.find_element(By.CSS_SELECTOR, '#tracks').text
        assert any(n in tracks for n in names), tracks
        wait.until(lambda b: len(b.find_elements(By.CSS_SELECTOR, '#frames img')) >= 4)

        status = segment(None, '', '', 'Error')
        assert 'The vocabulary is empty' in status, status
    finally:
        if browser is not None:
            browser.quit()
        server.terminate()
        server.wait(timeout=30)
        log.close()
