"""``render_mode="rgb_array"``: every id records through Gymnasium's ``RecordVideo``, the
pictures are deterministic and leave the episode alone, and the drawing helpers draw
what they say."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.wrappers import RecordVideo, RenderCollection

import opsgym.envs
from opsgym.envs.anomaly_detection.render import alert_steps
from opsgym.envs.caching.render import cache_cells
from opsgym.envs.core.render import (
    AMBER,
    GREEN,
    HEIGHT,
    RED,
    WIDTH,
    Canvas,
    Trail,
    grid_shape,
    heat,
    lettering,
    nice_ceiling,
    trail_of,
)
from opsgym.envs.resource_allocation.render import running_blocks
from opsgym.envs.scenarios import scenarios

ENV_IDS = opsgym.envs.opsgym_ids()
VECTOR_IDS = [env_id for env_id in ENV_IDS if gym.spec(env_id).vector_entry_point]
HAS_MOVIEPY = importlib.util.find_spec("moviepy") is not None


def masked_sample(env: gym.Env, info: dict) -> int:
    """A random action, among the valid ones where the env masks."""
    return int(env.action_space.sample(mask=info.get("action_mask")))


def check_frames(frames: list[np.ndarray]) -> None:
    """Frames of the declared size, uint8 RGB, each more than one colour, not all alike."""
    assert len(frames) > 1
    for frame in frames:
        assert frame.shape == (HEIGHT, WIDTH, 3) and frame.dtype == np.uint8
        colours = (frame.astype(np.int32) * [1 << 16, 1 << 8, 1]).sum(axis=2)
        assert len(np.unique(colours)) > 10
    assert any(not np.array_equal(frames[0], frame) for frame in frames[1:])


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_record_video_records_twenty_steps_of_every_id(env_id, tmp_path):
    env = gym.make(env_id, render_mode="rgb_array")
    env.action_space.seed(0)
    if HAS_MOVIEPY:
        env = RecordVideo(env, str(tmp_path / "video"), disable_logger=True)
    else:
        env = RenderCollection(env, pop_frames=False)
    _, info = env.reset(seed=0)
    for _ in range(20):
        _, _, terminated, truncated, info = env.step(masked_sample(env, info))
        assert not (terminated or truncated)
    frames = list(env.recorded_frames if HAS_MOVIEPY else env.render())
    env.close()
    assert len(frames) == 21  # the reset's frame and one per step
    check_frames(frames)
    if HAS_MOVIEPY:
        (video,) = (tmp_path / "video").glob("*.mp4")
        assert video.stat().st_size > 1000


@pytest.mark.parametrize(
    "env_id, scenario",
    [(env_id, name) for env_id in ENV_IDS for name in scenarios(env_id)],
)
def test_every_scenario_draws_a_frame(env_id, scenario):
    env = gym.make(env_id, render_mode="rgb_array", **scenarios(env_id)[scenario].env_kwargs)
    env.action_space.seed(1)
    _, info = env.reset(seed=1)
    frames = [env.render()]
    for _ in range(5):
        _, _, _, _, info = env.step(masked_sample(env, info))
        frames.append(env.render())
    check_frames(frames)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_rendering_is_deterministic_and_leaves_the_episode_alone(env_id):
    def rollout(render: bool) -> tuple[list, list]:
        env = gym.make(env_id, render_mode="rgb_array")
        env.action_space.seed(3)
        observation, info = env.reset(seed=3)
        observations, frames = [observation], []
        for _ in range(40):
            if render:
                frames.append(env.render())
            observation, _, _, _, info = env.step(masked_sample(env, info))
            observations.append(observation)
        return observations, frames

    drawn, frames = rollout(render=True)
    again, same_frames = rollout(render=True)
    undrawn, _ = rollout(render=False)
    assert all(np.array_equal(a, b) for a, b in zip(drawn, undrawn))
    assert all(np.array_equal(a, b) for a, b in zip(drawn, again))
    assert all(np.array_equal(a, b) for a, b in zip(frames, same_frames))


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_ansi_is_still_offered(env_id):
    env = gym.make(env_id, render_mode="ansi")
    assert set(env.metadata["render_modes"]) == {"ansi", "rgb_array"}
    env.reset(seed=0)
    text = env.render()
    assert isinstance(text, str) and text


@pytest.mark.parametrize("env_id", VECTOR_IDS)
def test_native_vector_envs_refuse_a_render_mode_at_construction(env_id):
    with pytest.raises(TypeError, match="render_mode.*'rgb_array'"):
        gym.make_vec(
            env_id, num_envs=2, vectorization_mode="vector_entry_point", render_mode="rgb_array"
        )
    gym.make_vec(env_id, num_envs=2, vectorization_mode="vector_entry_point", render_mode=None)


def test_every_registered_id_has_a_documentation_picture():
    spec = importlib.util.spec_from_file_location(
        "frames", Path(__file__).parents[1] / "docs" / "frames.py"
    )
    frames = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(frames)
    assert set(ENV_IDS) <= set(frames.FRAMES)
    for env_id in ENV_IDS:
        assert (frames.FOLDER / f"{frames.picture_name(env_id)}.png").is_file()
    assert frames.picture_name("opsgym/LoadBalancing-v0") == "LoadBalancing"


# ---------------------------------------------------------------- the drawing helpers


def test_heat_runs_green_amber_red_and_saturates():
    assert heat(0.0) == GREEN and heat(0.5) == AMBER and heat(1.0) == RED
    assert heat(7.0) == RED and heat(math.inf) == RED and heat(math.nan) == RED
    assert heat(0.25) == tuple(round((g + a) / 2) for g, a in zip(GREEN, AMBER))


@pytest.mark.parametrize(
    "value, ceiling",
    [(0.3, 0.5), (1.0, 1.0), (1.0001, 2.0), (2.4, 2.5), (2.6, 5.0), (999.0, 1000.0), (0.0, 1.0)],
)
def test_nice_ceiling_is_the_next_one_two_two_and_a_half_or_five(value, ceiling):
    assert nice_ceiling(value) == pytest.approx(ceiling)


@pytest.mark.parametrize("cells", range(1, 40))
def test_grid_shape_finds_the_largest_cells_that_fit(cells):
    width, height = 350.0, 280.0
    columns, side = grid_shape(cells, width, height)
    assert columns * side <= width + 1e-9 and math.ceil(cells / columns) * side <= height + 1e-9
    best = max(min(width / c, height / math.ceil(cells / c)) for c in range(1, cells + 1))
    assert side == pytest.approx(best)
    assert grid_shape(100, 300.0, 300.0) == (10, 30.0)


def test_trail_keeps_the_last_steps_replaces_a_repeated_step_and_restarts_on_a_reset():
    trail = Trail(length=3)
    for step in range(5):
        trail.record(step, 10.0 * step)
    assert trail.steps == [2, 3, 4] and trail.column(0) == [20.0, 30.0, 40.0]
    trail.record(4, -1.0)
    assert trail.steps == [2, 3, 4] and trail.column(0) == [20.0, 30.0, -1.0]
    trail.record(0, 5.0)  # a new episode
    assert trail.steps == [0] and trail.column(0) == [5.0]


def test_each_env_has_its_own_trail():
    first, second = object.__new__(gym.Env), object.__new__(gym.Env)
    assert trail_of(first, 5) is trail_of(first, 5)
    assert trail_of(first, 5) is not trail_of(second, 5)


def test_text_is_its_glyphs_side_by_side_and_lands_where_anchored():
    letters = lettering(11)
    assert letters.mask("ab").shape == (letters.height, letters.length("a") + letters.length("b"))
    canvas = Canvas("")
    canvas.text(320, 200, "opsgym", size=11, color=(0, 0, 0), anchor="mm")
    ink = np.argwhere(canvas.frame()[40:].min(axis=2) < 128) + [40, 0]
    width = letters.length("opsgym")
    assert abs(ink[:, 1].min() - (320 - width / 2)) <= 2
    assert abs(ink[:, 1].max() - (320 + width / 2)) <= 2
    assert abs(ink[:, 0].mean() - 200) <= letters.height / 2


# ---------------------------------------------------------------- what the renderers compute


def test_alerts_are_found_where_the_running_count_rises():
    assert alert_steps([0, 1, 2, 3, 5], [0, 1, 1, 2, 3]) == [0, 2, 4]
    assert alert_steps([7], [2]) == []


def test_cache_cells_give_unit_objects_one_cell_and_sized_objects_their_share():
    assert cache_cells(100, [1] * 100) == [1] * 100
    assert cache_cells(10_000, [25, 100, 1, 2000]) == [1, 4, 1, 80]


def test_running_jobs_are_blocks_that_tile_the_occupancy_grid():
    env = gym.make("opsgym/ResourceAllocation-v0", load=1.2).unwrapped
    env.action_space.seed(2)
    _, info = env.reset(seed=2)
    checked = 0
    for _ in range(300):
        _, _, terminated, truncated, info = env.step(masked_sample(env, info))
        sim = env.simulator
        for r, row in enumerate(sim.occupancy):
            blocks = running_blocks(sim.running, sim.now, r)
            drawn = [0] * env.config.horizon
            cells = set()
            for _, first, units, steps in blocks:
                for t in range(steps):
                    drawn[t] += units
                    for u in range(first, first + units):
                        assert (u, t) not in cells  # blocks never overlap
                        cells.add((u, t))
            assert drawn == row
            assert all(u < env.config.capacities[r] for u, _ in cells)
            checked += len(blocks)
        if terminated or truncated:
            break
    assert checked > 100
