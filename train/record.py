"""Record one episode of a reference policy: a video, an animated GIF or its last frame.

The output's suffix says which: ``.mp4`` goes through Gymnasium's ``RecordVideo``, which
needs moviepy (``pip install 'opsgym[video]'``); ``.gif`` is written by Pillow from the
frames ``RenderCollection`` gathers; ``.png`` keeps the last frame, the picture the
documentation shows. The episode is the first one ``opsgym evaluate --seed S`` runs,
policy and seed alike, so a recording shows an evaluated episode.
"""

from __future__ import annotations

import importlib.util
import tempfile
from pathlib import Path

import numpy as np
from gymnasium.wrappers import RecordVideo, RenderCollection, TimeLimit
from PIL import Image

from opsgym.baselines import make_policy
from opsgym.train.runner import EpisodeResult, evaluation_seeds, is_online, make_env, run_episode

FORMATS = (".mp4", ".gif", ".png")


def record_episode(
    env_id: str,
    policy_name: str,
    out: str | Path,
    seed: int = 0,
    steps: int | None = None,
    env_kwargs: dict | None = None,
    fps: int | None = None,
) -> tuple[int, EpisodeResult]:
    """Run ``policy_name`` for one episode of ``env_id`` and write it to ``out``.

    Args:
        env_id: a registered opsgym id.
        policy_name: a reference policy of the env (see ``opsgym evaluate``).
        out: a ``.mp4``, ``.gif`` or ``.png`` path; its folder is made if missing.
        seed: the evaluation seed, as ``opsgym evaluate --seed`` takes it.
        steps: stop after this many steps (None: when the episode ends).
        env_kwargs: constructor arguments of the environment.
        fps: frames per second of a video (None: the env's ``render_fps``).

    Returns:
        The number of frames drawn (the reset's and one per step) and the episode's result.

    Raises:
        ValueError: an unknown suffix, id, argument or policy, a count below 1, or an
            MP4 without moviepy installed.
    """
    path = Path(out)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"out must end in {', '.join(FORMATS)}, got {str(out)!r}")
    for name, value in (("steps", steps), ("fps", fps)):
        if value is not None and (not isinstance(value, int) or value < 1):
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if suffix == ".mp4" and importlib.util.find_spec("moviepy") is None:
        raise ValueError(
            "writing an MP4 needs moviepy: pip install 'opsgym[video]' (or write a .gif)"
        )
    env = make_env(env_id, {**(env_kwargs or {}), "render_mode": "rgb_array"})
    policy = make_policy(env, policy_name, seed=seed)
    if steps is not None:
        env = TimeLimit(env, max_episode_steps=steps)
    fps = fps or env.metadata.get("render_fps", 4)
    episode_seed = evaluation_seeds(seed, 1)[0]
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".mp4":
        with tempfile.TemporaryDirectory(dir=path.parent) as scratch:
            folder = Path(scratch) / "video"  # RecordVideo warns about a folder that exists
            video = RecordVideo(
                env, str(folder), name_prefix="opsgym", fps=fps, disable_logger=True
            )
            result = run_episode(video, policy, episode_seed, is_online(policy))
            video.close()  # writes the video
            (written,) = folder.glob("*.mp4")
            written.replace(path)
        return result.length + 1, result
    collected = RenderCollection(env)
    result = run_episode(collected, policy, episode_seed, is_online(policy))
    frames = collected.render()
    collected.close()
    write_frames(frames, path, fps)
    return len(frames), result


def write_frames(frames: list[np.ndarray], path: Path, fps: int) -> None:
    """``frames`` as an animated GIF (looping) at ``path``, or the last of them as a PNG."""
    if path.suffix.lower() == ".png":
        Image.fromarray(frames[-1]).save(path)
        return
    images = [Image.fromarray(frame) for frame in frames]
    images[0].save(
        path, save_all=True, append_images=images[1:], duration=round(1000 / fps), loop=0
    )
