"""Drawing the frames of ``render_mode="rgb_array"``: a small canvas over Pillow.

Every environment package has a ``render.py`` that draws its env's public state on a
:class:`Canvas` and returns :meth:`Canvas.frame`, a ``(HEIGHT, WIDTH, 3)`` uint8 array.
Pillow's ``ImageDraw`` keeps a frame to a few milliseconds, fast enough for Gymnasium's
``RecordVideo``. Colours are RGB tuples; coordinates are pixels from the top left.

An env keeps no history it does not need; a renderer that charts the recent past
records what it draws in a :class:`Trail`, kept beside the env (see :func:`trail_of`).
"""

from __future__ import annotations

import functools
import math
import weakref
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 640, 400  # every frame's size [pixels]
TITLE_HEIGHT = 28  # the title bar at the top of every frame [pixels]

Colour = tuple[int, int, int]

BACKGROUND: Colour = (255, 255, 255)
PANEL: Colour = (243, 245, 248)
GRID: Colour = (214, 219, 225)
INK: Colour = (33, 37, 41)
MUTED: Colour = (108, 117, 125)
BLUE: Colour = (31, 119, 180)
GREEN: Colour = (44, 160, 44)
AMBER: Colour = (240, 170, 0)
RED: Colour = (214, 39, 40)
ORANGE: Colour = (255, 127, 14)
PURPLE: Colour = (148, 103, 189)
# distinct colours for things that have no order (jobs, metrics), after Tableau's ten
PALETTE: tuple[Colour, ...] = (
    BLUE,
    ORANGE,
    GREEN,
    PURPLE,
    (140, 86, 75),
    (227, 119, 194),
    (188, 189, 34),
    (23, 190, 207),
    (174, 199, 232),
    (255, 187, 120),
    (152, 223, 138),
    (197, 176, 213),
)


def mix(a: Colour, b: Colour, t: float) -> Colour:
    """The colour ``t`` of the way from ``a`` to ``b`` (``t`` clipped to [0, 1])."""
    t = min(1.0, max(0.0, t))
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b))  # type: ignore[return-value]


def heat(fraction: float) -> Colour:
    """Green at 0, amber at 0.5, red at 1 and beyond: how loaded or how bad a thing is."""
    if not math.isfinite(fraction):
        return RED
    if fraction < 0.5:
        return mix(GREEN, AMBER, 2.0 * fraction)
    return mix(AMBER, RED, 2.0 * fraction - 1.0)


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 times a power of ten that is >= ``value`` (> 0)."""
    if not value > 0 or not math.isfinite(value):
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    return next(m * power for m in (1.0, 2.0, 2.5, 5.0, 10.0) if m * power >= value * (1 - 1e-9))


@functools.lru_cache(maxsize=64)
def grid_shape(cells: int, width: float, height: float) -> tuple[int, float]:
    """The columns and the side [pixels] of the largest square cells of which ``cells``
    fit in a ``width`` x ``height`` box, row by row."""
    best = (1, 0.0)
    for columns in range(1, max(1, cells) + 1):
        side = min(width / columns, height / math.ceil(max(1, cells) / columns))
        if side > best[1]:
            best = (columns, side)
    return best


def compact(value: float) -> str:
    """A number in at most four characters or so: 950, 1.2k, 35M, 0.25."""
    magnitude = abs(value)
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if magnitude >= limit:
            return f"{value / limit:.3g}{suffix}"
    return f"{value:.3g}"


class Lettering:
    """Pillow's bundled font at one size, drawn from a cache of its glyphs.

    FreeType rasterizes every glyph of every string it is given, which costs most of a
    frame; each glyph is rasterized here once and a string is its glyphs side by side
    (without kerning, which a small sans-serif label does not miss).
    """

    def __init__(self, size: int) -> None:
        self.font = ImageFont.load_default(size)
        self.ascent, descent = self.font.getmetrics()
        self.height = self.ascent + descent
        self.glyphs: dict[str, np.ndarray] = {}

    def glyph(self, character: str) -> np.ndarray:
        """The coverage mask of ``character``, ``height`` rows by its advance."""
        mask = self.glyphs.get(character)
        if mask is None:
            advance = max(1, round(self.font.getlength(character)))
            image = Image.new("L", (advance, self.height))
            ImageDraw.Draw(image).text((0, 0), character, fill=255, font=self.font)
            mask = self.glyphs[character] = np.asarray(image)
        return mask

    def mask(self, text: str) -> np.ndarray:
        """The coverage mask of ``text`` on one line."""
        return np.concatenate([self.glyph(c) for c in text], axis=1)

    def length(self, text: str) -> int:
        """The width of ``text`` [pixels]."""
        return sum(self.glyph(c).shape[1] for c in text)


@functools.lru_cache(maxsize=16)
def lettering(size: int) -> Lettering:
    """The :class:`Lettering` of ``size`` pixels, shared by every frame."""
    return Lettering(size)


class Canvas:
    """A frame being drawn: a white ``WIDTH`` x ``HEIGHT`` image under a title bar that
    names the picture (left) and the env's progress (right)."""

    def __init__(self, title: str, status: str = "") -> None:
        self.image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
        self.draw = ImageDraw.Draw(self.image)
        self.rect(0, 0, WIDTH, TITLE_HEIGHT, fill=PANEL)
        self.text(10, TITLE_HEIGHT // 2, title, size=15, anchor="lm")
        self.text(WIDTH - 10, TITLE_HEIGHT // 2, status, size=12, color=MUTED, anchor="rm")

    def text(
        self,
        x: float,
        y: float,
        text: str,
        size: int = 11,
        color: Colour = INK,
        anchor: str = "la",
    ) -> None:
        """Write ``text`` at ``(x, y)``; ``anchor`` is Pillow's, horizontal (``l``eft,
        ``m``iddle, ``r``ight) then vertical (``a``scender, ``m``iddle, ``d``escender)."""
        if not text:
            return
        letters = lettering(size)
        mask = letters.mask(text)
        height, width = mask.shape
        left = x - {"l": 0.0, "m": width / 2, "r": width}[anchor[0]]
        top = y - {"a": 0.0, "m": height / 2, "d": height}[anchor[1]]
        self.draw.bitmap((round(left), round(top)), Image.fromarray(mask), fill=color)

    def rect(
        self,
        x0: float,
        y0: float,
        x1: float,
        y1: float,
        fill: Colour | None = None,
        outline: Colour | None = None,
        width: int = 1,
    ) -> None:
        """A rectangle from ``(x0, y0)`` to ``(x1, y1)``, corners in either order."""
        box = (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))
        self.draw.rectangle(box, fill=fill, outline=outline, width=width)

    def cell(
        self,
        origin: tuple[float, float],
        columns: int,
        side: float,
        k: int,
        fill: Colour,
        outline: Colour | None = None,
        width: int = 1,
    ) -> tuple[float, float]:
        """Cell ``k`` of a grid of ``side``-pixel squares, ``columns`` to a row from
        ``origin`` (its top left, as :func:`grid_shape` lays them out), drawn a pixel inside
        its square; returns the square's top-left corner."""
        row, column = divmod(k, columns)
        x0, y0 = origin[0] + column * side, origin[1] + row * side
        self.rect(x0 + 1, y0 + 1, x0 + side - 1, y0 + side - 1, fill, outline, width)
        return x0, y0

    def line(self, points: Sequence[tuple[float, float]], color: Colour, width: int = 1) -> None:
        """A polyline through ``points``."""
        if len(points) > 1:
            self.draw.line(list(points), fill=color, width=width, joint="curve")

    def dashed(
        self, start: tuple[float, float], end: tuple[float, float], color: Colour, dash: int = 5
    ) -> None:
        """A dashed straight line (reference levels, paths not taken)."""
        (x0, y0), (x1, y1) = start, end
        length = math.hypot(x1 - x0, y1 - y0)
        for k in range(0, int(length), 2 * dash):
            a, b = k / length, min(1.0, (k + dash) / length)
            self.draw.line(
                [
                    (x0 + a * (x1 - x0), y0 + a * (y1 - y0)),
                    (x0 + b * (x1 - x0), y0 + b * (y1 - y0)),
                ],
                fill=color,
            )

    def dot(self, x: float, y: float, radius: float, fill: Colour, outline: Colour = INK) -> None:
        """A filled circle centred on ``(x, y)``."""
        self.draw.ellipse(
            (x - radius, y - radius, x + radius, y + radius), fill=fill, outline=outline
        )

    def gauge(
        self,
        x: float,
        y: float,
        width: float,
        height: float,
        fraction: float,
        color: Colour,
        label: str = "",
    ) -> None:
        """A horizontal bar filled to ``fraction`` (clipped to [0, 1]), ``label`` inside."""
        self.rect(x, y, x + width, y + height, fill=PANEL, outline=GRID)
        filled = width * min(1.0, max(0.0, fraction)) if math.isfinite(fraction) else width
        if filled >= 1.0:
            self.rect(x, y, x + filled, y + height, fill=color)
        if label:
            self.text(x + 4, y + height / 2, label, size=min(11, int(height) - 1), anchor="lm")

    def legend(self, x: float, y: float, items: Sequence[tuple[Colour, str]]) -> None:
        """Swatches and their labels in a row from ``(x, y)``."""
        for color, label in items:
            self.rect(x, y, x + 10, y + 10, fill=color, outline=GRID)
            self.text(x + 14, y + 5, label, size=10, color=MUTED, anchor="lm")
            x += 24 + lettering(10).length(label)

    def colour_scale(self, x: float, y: float, width: float, low: str, high: str) -> None:
        """The :func:`heat` scale from ``low`` (green) to ``high`` (red) as a bar."""
        steps = 32
        for k in range(steps):
            x0 = x + width * k / steps
            self.rect(x0, y, x0 + width / steps + 1, y + 8, fill=heat(k / (steps - 1)))
        self.text(x, y + 10, low, size=10, color=MUTED)
        self.text(x + width, y + 10, high, size=10, color=MUTED, anchor="ra")

    def chart(
        self,
        x0: float,
        y0: float,
        x1: float,
        y1: float,
        x_range: tuple[float, float],
        y_range: tuple[float, float],
        title: str = "",
        ticks: Sequence[tuple[float, str]] = (),
    ) -> Chart:
        """Axes in the box ``(x0, y0, x1, y1)``, with grid lines at the y ``ticks``
        (value, label): by default the bottom, the middle and the top."""
        chart = Chart(self, (x0, y0, x1, y1), x_range, y_range)
        self.rect(x0, y0, x1, y1, fill=BACKGROUND, outline=GRID)
        low, high = y_range
        for value, label in ticks or [(v, compact(v)) for v in (low, (low + high) / 2, high)]:
            y = chart.y(value)
            self.line([(x0, y), (x1, y)], GRID)
            self.text(x0 - 4, y, label, size=10, color=MUTED, anchor="rm")
        if title:
            self.text(x0, y0 - 4, title, size=11, anchor="ld")
        return chart

    def frame(self) -> np.ndarray:
        """The picture as a ``(HEIGHT, WIDTH, 3)`` uint8 array."""
        return np.array(self.image)


class Chart:
    """Value axes inside a box of a :class:`Canvas`, made by :meth:`Canvas.chart`."""

    def __init__(
        self,
        canvas: Canvas,
        box: tuple[float, float, float, float],
        x_range: tuple[float, float],
        y_range: tuple[float, float],
    ) -> None:
        self.canvas = canvas
        self.box = box  # (x0, y0, x1, y1) [pixels]
        self.x_range, self.y_range = x_range, y_range

    def x(self, value: float) -> float:
        """The pixel column of ``value`` on the x axis."""
        x0, _, x1, _ = self.box
        low, high = self.x_range
        return x0 + (x1 - x0) * (value - low) / ((high - low) or 1.0)

    def y(self, value: float) -> float:
        """The pixel row of ``value`` on the y axis, clipped to the box."""
        _, y0, _, y1 = self.box
        low, high = self.y_range
        fraction = min(1.0, max(0.0, (value - low) / ((high - low) or 1.0)))
        return y1 - (y1 - y0) * fraction

    def series(
        self,
        xs: Sequence[float],
        ys: Sequence[float],
        color: Colour,
        width: int = 2,
        steps: bool = False,
    ) -> None:
        """A line through the points, or a staircase (``steps``: values hold until the next)."""
        points = [(self.x(a), self.y(b)) for a, b in zip(xs, ys)]
        if steps and points:
            stairs = [points[0]]
            for (_, y_previous), (x, y) in zip(points, points[1:]):
                stairs += [(x, y_previous), (x, y)]
            points = stairs
        if len(points) == 1:
            self.canvas.dot(*points[0], 2, color, color)
        self.canvas.line(points, color, width)

    def level(self, value: float, color: Colour, label: str = "") -> None:
        """A dashed horizontal line at ``value``, labelled at its right end."""
        x0, _, x1, _ = self.box
        y = self.y(value)
        self.canvas.dashed((x0, y), (x1, y), color)
        if label:
            self.canvas.text(x1 - 3, y - 2, label, size=10, color=color, anchor="rd")

    def band(self, start: float, end: float, color: Colour) -> None:
        """A full-height shaded span of the x axis from ``start`` to ``end``."""
        x0, y0, x1, y1 = self.box
        left, right = max(x0, self.x(start)), min(x1, self.x(end))
        if right > left:
            self.canvas.rect(left, y0 + 1, right, y1 - 1, fill=color)


class Trail:
    """Values recorded at successive frames of an episode, the last ``length`` steps of them.

    A step earlier than the last one recorded starts over (a new episode), and a step
    recorded again replaces its values. Steps without a frame are missing, so a chart
    drawn from a trail is complete when every step is rendered, as ``RecordVideo`` does.
    """

    def __init__(self, length: int) -> None:
        self.length = length
        self.steps: list[int] = []
        self.rows: list[tuple[float, ...]] = []

    def record(self, step: int, *values: float) -> None:
        """Remember ``values`` for ``step``."""
        while self.steps and self.steps[-1] >= step:
            self.steps.pop()
            self.rows.pop()
        self.steps.append(step)
        self.rows.append(values)
        first = step - self.length
        drop = 0
        while drop < len(self.steps) and self.steps[drop] <= first:
            drop += 1
        del self.steps[:drop], self.rows[:drop]

    def column(self, index: int) -> list[float]:
        """The ``index``-th value of every recorded step, oldest first."""
        return [row[index] for row in self.rows]


_TRAILS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def trail_of(env: object, length: int) -> Trail:
    """The :class:`Trail` of ``env``'s frames, made on its first frame.

    It lives beside the env, not in it, so that the env's state (what pickling and
    ``copy.deepcopy`` carry) stays free of rendering; it goes when the env does.
    """
    trail = _TRAILS.get(env)
    if trail is None:
        trail = _TRAILS[env] = Trail(length)
    return trail
