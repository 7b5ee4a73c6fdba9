#!/usr/bin/env python3
"""Golden fixtures for visreft's image preprocessing (sdk/models/llava/preprocess*.go), made by Pillow.

nanoLLaVA's process_images (image_aspect_ratio "pad") does, per image:
  expand2square(image, tuple(int(x * 255) for x in image_mean))   # pad to square with (127, 127, 127)
  SigLipImageProcessor.preprocess(image):                         # transformers.image_transforms helpers
    convert_to_rgb        image.convert("RGB"): alpha dropped, not composited
    resize                PIL Image.resize((384, 384), BICUBIC) on the uint8 RGB image
    rescale               (uint8 as float64 * (1/255)) cast to float32
    normalize             (x - 0.5) / 0.5 in float32
    channels first        [3, 384, 384]
This script reproduces those steps with Pillow and numpy alone (no transformers), with one deliberate
change of order: the image is converted to RGB *before* expand2square, as LLaVA's training data loaders
do (Image.open(...).convert("RGB")). For RGB and RGBA images the two orders agree (checked below); for
"L", "LA", "I" and "P" images nanoLLaVA's own order pads in the original mode, which fails or garbles
the colours (Image.new("L", size, (127, 127, 127)) is a TypeError; a "P" image gets a fresh palette and
keeps its indices). index.json records, per case, what the native order does.

It writes into testdata/preprocess/fixtures/:
  <name>.png        the input image, made here deterministically (numpy RandomState seeds)
  <name>.want.png   the 384x384 RGB uint8 image after pad + resize, as Pillow computes it
  <name>.<W>x<H>.png  ResizeBicubic checks off the square path: Pillow's BICUBIC resize of <name>.png
                    (as RGB) to W x H, one pass only or non-square
  index.json        per case: input mode and size, sha256 of the normalised float32 [3, 384, 384]
                    array (little-endian bytes), and a few sample values; Pillow and numpy versions

Pinned: Debian bookworm's python3-pil 9.4.0 and python3-numpy 1.24.2. Pillow's 8-bit resampling code
(libImaging/Resample.c) has been unchanged in substance since Pillow 4; other versions should agree.

  apt-get install -y python3-pil python3-numpy
  /usr/bin/python3 testdata/gen/preprocess/make_fixtures.py
"""
import hashlib
import json
import os

import numpy as np
import PIL
from PIL import Image

SIZE = 384
MEAN = (0.5, 0.5, 0.5)
STD = (0.5, 0.5, 0.5)
RESCALE = 1 / 255
BICUBIC = getattr(Image, "Resampling", Image).BICUBIC
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "preprocess", "fixtures")


def expand2square(pil_img, background_color):
    """nanoLLaVA's (LLaVA's) expand2square, verbatim in behaviour."""
    width, height = pil_img.size
    if width == height:
        return pil_img
    if width > height:
        result = Image.new(pil_img.mode, (width, width), background_color)
        result.paste(pil_img, (0, (width - height) // 2))
        return result
    result = Image.new(pil_img.mode, (height, height), background_color)
    result.paste(pil_img, ((height - width) // 2, 0))
    return result


def background():
    return tuple(int(x * 255) for x in MEAN)


def resized(img):
    """pad + resize: the uint8 image the processor normalises."""
    sq = expand2square(img.convert("RGB"), background())
    return np.asarray(sq.resize((SIZE, SIZE), BICUBIC))


def native_resized(img):
    """nanoLLaVA's own order: pad in the original mode, then convert."""
    sq = expand2square(img, background())
    if sq.mode != "RGB":
        sq = sq.convert("RGB")
    return np.asarray(sq.resize((SIZE, SIZE), BICUBIC))


def normalise(arr):
    """transformers' rescale then normalize, then channels first."""
    x = (arr.astype(np.float64) * RESCALE).astype(np.float32)
    x = (x - np.array(MEAN, dtype=np.float32)) / np.array(STD, dtype=np.float32)
    return np.ascontiguousarray(x.transpose(2, 0, 1))


def noise(h, w, seed, channels=3):
    shape = (h, w, channels) if channels > 1 else (h, w)
    return np.random.RandomState(seed).randint(0, 256, size=shape).astype(np.uint8)


def pattern(h, w, seed):
    """Smooth gradients, a hard-edged checkerboard and disc (cubic overshoot, clipping), a noise patch."""
    y, x = np.mgrid[0:h, 0:w]
    img = np.zeros((h, w, 3), dtype=np.uint8)
    img[..., 0] = (x * 255 // max(w - 1, 1)).astype(np.uint8)
    img[..., 1] = (y * 255 // max(h - 1, 1)).astype(np.uint8)
    img[..., 2] = np.where(((x // 7) + (y // 5)) % 2 == 0, 0, 255).astype(np.uint8)
    disc = (x - w / 3) ** 2 + (y - h / 2) ** 2 < (min(h, w) / 4) ** 2
    img[disc] = (250, 10, 128)
    ph, pw = min(48, h // 3), min(48, w // 3)
    img[h // 2:h // 2 + ph, w // 2:w // 2 + pw] = noise(ph, pw, seed)
    return img


def cases():
    """(name, PIL image) pairs covering the shapes, sizes and modes the Go code must handle."""
    yield "rgb_37x23", Image.fromarray(noise(23, 37, 1), "RGB")          # landscape, odd, upscale
    yield "rgb_23x37", Image.fromarray(noise(37, 23, 2), "RGB")          # portrait, odd, upscale
    yield "rgb_200x120", Image.fromarray(pattern(120, 200, 3), "RGB")    # upscale x1.92
    yield "rgb_1000x700", Image.fromarray(pattern(700, 1000, 4), "RGB")  # downscale x2.60
    yield "rgb_300x977", Image.fromarray(pattern(977, 300, 5), "RGB")    # portrait downscale x2.54
    yield "rgb_401x400", Image.fromarray(pattern(400, 401, 6), "RGB")    # downscale x1.04
    yield "rgb_384x384", Image.fromarray(pattern(384, 384, 7), "RGB")    # already the size: no resampling
    yield "rgb_3x1", Image.fromarray(np.array([[[0, 255, 0], [255, 0, 255], [0, 0, 0]]], dtype=np.uint8), "RGB")

    pal = Image.fromarray((noise(30, 50, 8, 1) % 16).astype(np.uint8), "P")
    pal.putpalette(noise(16, 1, 9).flatten().tolist())
    pal.info["transparency"] = 3  # a tRNS chunk: index 3 transparent, its colour still counts
    yield "p_50x30", pal

    rgba = np.concatenate([noise(61, 45, 10), noise(61, 45, 11, 1)[..., None]], axis=2)
    rgba[::4, ::3, 3] = 0  # fully transparent pixels with non-zero colour
    yield "rgba_45x61", Image.fromarray(rgba, "RGBA")
    yield "l_64x40", Image.fromarray(noise(40, 64, 12, 1), "L")
    la = np.stack([noise(17, 31, 13, 1), noise(17, 31, 14, 1)], axis=2)
    yield "la_31x17", Image.fromarray(la, "LA")
    # 16-bit grayscale: Pillow opens it as mode "I" (or "I;16"), whose conversion to RGB clips at 255.
    i16 = (np.random.RandomState(15).randint(0, 1000, size=(30, 20))).astype(np.uint16)
    yield "i16_20x30", Image.fromarray(i16, "I;16")


# ResizeBicubic is exported for any size: these exercise a horizontal-only pass, a vertical-only pass
# and a mixed up/down non-square resize, which the square pipeline never does.
RESIZES = [("rgb_37x23", 50, 23), ("rgb_37x23", 37, 60), ("rgb_200x120", 31, 300)]


def main():
    os.makedirs(OUT, exist_ok=True)
    index = {"pillow": PIL.__version__, "numpy": np.__version__, "size": SIZE, "mean": MEAN, "std": STD,
             "background": background(), "script": "testdata/gen/preprocess/make_fixtures.py", "cases": []}
    for name, made in cases():
        path = os.path.join(OUT, name + ".png")
        made.save(path, optimize=True, **({"transparency": made.info["transparency"]} if "transparency" in made.info else {}))
        img = Image.open(path)  # what a user opens: the decoded PNG, not the in-memory image
        img.load()
        want = resized(img)
        Image.fromarray(want, "RGB").save(os.path.join(OUT, name + ".want.png"), optimize=True)
        px = normalise(want)
        assert px.shape == (3, SIZE, SIZE) and px.dtype == np.float32
        try:
            nat = native_resized(img)
            d = int(np.abs(nat.astype(int) - want.astype(int)).max())
            native = "same" if d == 0 else f"differs: max |diff| {d} on the uint8 image"
        except Exception as e:  # noqa: BLE001 - recorded, not hidden
            native = f"error: {type(e).__name__}: {e}"
        index["cases"].append({
            "name": name, "mode": img.mode, "width": img.size[0], "height": img.size[1],
            "pixels_sha256": hashlib.sha256(px.astype("<f4").tobytes()).hexdigest(),
            "samples": {"c0_y0_x0": float(px[0, 0, 0]), "c1_y191_x200": float(px[1, 191, 200]),
                        "c2_y383_x383": float(px[2, 383, 383])},
            "nanollava_native_order": native,
        })
        print(f"{name}: mode {img.mode}, native order: {native}")
    index["resizes"] = []
    for name, w, h in RESIZES:
        img = Image.open(os.path.join(OUT, name + ".png")).convert("RGB")
        want = f"{name}.{w}x{h}.png"
        img.resize((w, h), BICUBIC).save(os.path.join(OUT, want), optimize=True)
        index["resizes"].append({"input": name + ".png", "width": w, "height": h, "want": want})
    with open(os.path.join(OUT, "index.json"), "w") as f:
        json.dump(index, f, indent=1)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(OUT, n)) for n in os.listdir(OUT))
    print(f"wrote {OUT}: {total} bytes")


if __name__ == "__main__":
    main()
