"""Sample grids of generated images: one PNG per generation and an animated GIF."""

import logging

import numpy as np
from matplotlib import font_manager
from PIL import Image, ImageDraw, ImageFont

from .checkpoints import CheckpointError, read_sample_images

log = logging.getLogger("collapse_analysis")

GAP = 2            # pixels between images in a grid
GAP_VALUE = 1.0    # grey level of the gaps, in [0,1]: white, against the black backgrounds
SCALE = 2          # nearest-neighbour upscaling of the grids
BAND = 28          # height of the caption band above a grid, in output pixels


def to_pixels(images, data_mean, data_std):
    """Convert normalized images to [0,1] pixel units, clipped for display."""
    return np.clip(images.astype(np.float64) * data_std + data_mean, 0.0, 1.0)


def make_grid(images, columns):
    """Tile [n, h, w] images (values in [0,1]) into one [H, W] array, row by row."""
    count, height, width = images.shape
    rows = max(1, -(-count // columns))
    grid = np.full((rows * height + (rows - 1) * GAP, columns * width + (columns - 1) * GAP), GAP_VALUE)
    for index in range(count):
        row, column = divmod(index, columns)
        top, left = row * (height + GAP), column * (width + GAP)
        grid[top:top + height, left:left + width] = images[index]
    return grid


def _font(size):
    try:
        return ImageFont.truetype(font_manager.findfont("DejaVu Sans"), size)
    except OSError:
        return ImageFont.load_default()


def render_frame(grid, caption):
    """Return a greyscale Pillow image: the grid upscaled by SCALE under a caption band."""
    pixels = np.kron(grid, np.ones((SCALE, SCALE)))
    height, width = pixels.shape
    frame = Image.new("L", (width, height + BAND), color=255)
    frame.paste(Image.fromarray(np.round(pixels * 255).astype(np.uint8), mode="L"), (0, BAND))
    ImageDraw.Draw(frame).text((6, 5), caption, fill=0, font=_font(14))
    return frame


def load_grids(member, count):
    """Return [(generation, grid)] of a member's first `count` generated images per generation.

    A generation whose images cannot be read is skipped with a warning naming the file.
    """
    columns = max(1, int(round(np.sqrt(count))))
    grids = []
    for generation in member.generations:
        try:
            images = read_sample_images(generation.path, count)
        except CheckpointError as error:
            log.warning("%s; no sample grid for this generation", error)
            continue
        if images.shape[0] == 0:
            log.warning("%s: /generated/images is empty; no sample grid for this generation", generation.path)
            continue
        grids.append((generation.index, make_grid(to_pixels(images, member.data_mean, member.data_std), columns)))
    return grids


def caption(member, generation):
    return f"{member.name}  generation {generation}: samples D_{generation + 1}"


def write_samples(member, grids, png_pattern, gif_path, frame_ms=600, last_frame_ms=2000):
    """Write one PNG per generation (png_pattern.format(generation=g)) and an animated GIF.

    Returns the list of PNG paths written.
    """
    frames = []
    paths = []
    for generation, grid in grids:
        frame = render_frame(grid, caption(member, generation))
        path = png_pattern.format(generation=generation)
        frame.save(path, format="PNG")
        paths.append(path)
        frames.append(frame)
    if frames:
        durations = [frame_ms] * (len(frames) - 1) + [last_frame_ms]
        frames[0].save(gif_path, format="GIF", save_all=True, append_images=frames[1:],
                       duration=durations, loop=0)
    return paths
