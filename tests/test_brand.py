"""The brand images Home Assistant 2026.3+ serves from the integration's own brand/ folder.

Names: HA's brands integration (``components/brands/const.py``, ``ALLOWED_IMAGES``) serves
exactly these eight. Sizes: the brands guidelines (icon 256x256 and @2x 512x512; logo
landscape, shortest side 128-256 and @2x 256-512), PNG, transparent and trimmed.
scripts/make-brand draws them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

BRAND_DIR = Path(__file__).resolve().parent.parent / "custom_components" / "ai_automation" / "brand"
ICONS = ("icon.png", "icon@2x.png", "dark_icon.png", "dark_icon@2x.png")
LOGOS = ("logo.png", "logo@2x.png", "dark_logo.png", "dark_logo@2x.png")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _open(name: str) -> Image.Image:
    image = Image.open(BRAND_DIR / name)
    image.load()
    return image


def _alpha(image: Image.Image) -> Image.Image:
    return image.convert("RGBA").getchannel("A")


def _visible_box(image: Image.Image) -> tuple[int, int, int, int]:
    """The box of what is visible (alpha 16 and up: not an antialiasing fringe)."""
    box = _alpha(image).point(lambda a: 255 if a >= 16 else 0).getbbox()
    assert box is not None, "nothing visible"
    return box


def _reaches(low: int, high: int, size: int) -> bool:
    """[low, high) spans ``size`` but for a fringe (2% of it, at least 2 px) at each end."""
    slack = max(2, size // 50)
    return low <= slack and high >= size - slack


def test_brand_folder_has_exactly_the_served_images() -> None:
    assert sorted(p.name for p in BRAND_DIR.iterdir()) == sorted(ICONS + LOGOS)


def test_names_are_the_ones_home_assistant_serves() -> None:
    """Cross-checked with the running HA's own list where it has one (2026.3 and later)."""
    const = pytest.importorskip("homeassistant.components.brands.const")
    assert set(ICONS + LOGOS) == set(const.ALLOWED_IMAGES)


@pytest.mark.parametrize("name", ICONS + LOGOS)
def test_png_with_transparency_and_trimmed(name: str) -> None:
    assert (BRAND_DIR / name).read_bytes().startswith(PNG_SIGNATURE)
    image = _open(name)
    assert image.format == "PNG"
    assert image.mode == "RGBA" or (image.mode == "P" and "transparency" in image.info), image.mode
    alpha = _alpha(image)
    low, high = alpha.getextrema()
    assert (low, high) == (0, 255), "a transparent background around an opaque mark"
    # Trimmed: the artwork reaches the edges (the square icon along its longer side).
    left, top, right, bottom = _visible_box(image)
    across = _reaches(left, right, image.width)
    down = _reaches(top, bottom, image.height)
    if name in LOGOS:
        assert across and down, _visible_box(image)
    else:
        assert across or down, _visible_box(image)


@pytest.mark.parametrize("name", ICONS)
def test_icon_sizes(name: str) -> None:
    side = 512 if "@2x" in name else 256
    assert _open(name).size == (side, side)


@pytest.mark.parametrize("name", LOGOS)
def test_logo_sizes(name: str) -> None:
    width, height = _open(name).size
    low, high = (256, 512) if "@2x" in name else (128, 256)
    assert width > height, "landscape"
    assert low <= min(width, height) <= high


@pytest.mark.parametrize("prefix", ["", "dark_"])
def test_hidpi_images_are_twice_the_size(prefix: str) -> None:
    for kind in ("icon", "logo"):
        width, height = _open(f"{prefix}{kind}.png").size
        assert _open(f"{prefix}{kind}@2x.png").size == (2 * width, 2 * height)


@pytest.mark.parametrize("kind", ["icon", "logo", "icon@2x", "logo@2x"])
def test_dark_variant_matches_the_light_one(kind: str) -> None:
    """Same shape and size, other colours (lighter blue and text for the dark theme)."""
    light, dark = _open(f"{kind}.png"), _open(f"dark_{kind}.png")
    assert light.size == dark.size
    for a, b in zip(_visible_box(light), _visible_box(dark), strict=True):
        assert abs(a - b) <= 1
    assert light.convert("RGBA").tobytes() != dark.convert("RGBA").tobytes()
