"""``opsgym record``: one episode of a reference policy as a GIF, an MP4 or a PNG."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from cli_runner import run_cli
from PIL import Image

from opsgym.envs.core.render import HEIGHT, WIDTH
from opsgym.train import record
from opsgym.train.cli import main
from opsgym.train.evaluate import evaluate_policies


def test_record_writes_a_gif_of_every_step(tmp_path):
    out = tmp_path / "nested" / "episode.gif"
    result = run_cli(
        "record",
        "--env",
        "opsgym/LoadBalancing-v0",
        "--policy",
        "least_connections",
        "--out",
        str(out),
        "--steps",
        "12",
        "--seed",
        "3",
    )
    assert result.returncode == 0, result.stderr
    assert "13 frames, 12 steps" in result.stdout
    with Image.open(out) as gif:
        assert gif.format == "GIF" and gif.size == (WIDTH, HEIGHT)
        assert gif.n_frames == 13
        assert gif.info["duration"] == 250  # the env's render_fps, 4
        gif.seek(0)
        first = np.asarray(gif.convert("RGB"))
        gif.seek(12)
        last = np.asarray(gif.convert("RGB"))
    assert not np.array_equal(first, last)


def test_a_recording_is_the_first_episode_that_evaluate_runs(tmp_path):
    kwargs = {"episode_length": 30}
    frames, result = record.record_episode(
        "opsgym/LoadBalancing-v0", "round_robin", tmp_path / "e.png", seed=2, env_kwargs=kwargs
    )
    (evaluation,) = evaluate_policies(
        "opsgym/LoadBalancing-v0", ["round_robin"], episodes=1, seed=2, env_kwargs=kwargs
    )
    assert frames == 31 and result.length == 30
    assert result.episode_return == evaluation.episodes[0].episode_return
    with Image.open(tmp_path / "e.png") as png:
        assert png.size == (WIDTH, HEIGHT)


@pytest.mark.skipif(importlib.util.find_spec("moviepy") is None, reason="moviepy absent")
def test_record_writes_an_mp4_through_record_video(tmp_path):
    import imageio.v2 as imageio

    out = tmp_path / "episode.mp4"
    frames, _ = record.record_episode("opsgym/ResourceAllocation-v0", "sjf", out, steps=8, fps=8)
    assert frames == 9
    reader = imageio.get_reader(out)
    decoded = [frame for frame in reader]
    assert reader.get_meta_data()["fps"] == 8
    assert len(decoded) == 9 and decoded[0].shape == (HEIGHT, WIDTH, 3)
    assert list(tmp_path.iterdir()) == [out]  # RecordVideo's folder is gone


def test_an_mp4_without_moviepy_names_the_extra(tmp_path, monkeypatch):
    absent = importlib.util.find_spec
    monkeypatch.setattr(
        record.importlib.util,
        "find_spec",
        lambda name, *args: None if name == "moviepy" else absent(name, *args),
    )
    with pytest.raises(ValueError, match=r"opsgym\[video\]"):
        record.record_episode("opsgym/Routing-v1", "ecmp", tmp_path / "e.mp4", steps=2)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    "args, message",
    [
        (["--out", "e.avi"], "out must end in .mp4, .gif, .png, got 'e.avi'"),
        (["--out", "e.gif", "--policy", "psychic"], "unknown policy 'psychic'"),
        (["--out", "e.gif", "--env", "opsgym/Nope-v0"], "unknown environment 'opsgym/Nope-v0'"),
        (["--out", "e.gif", "--env-arg", "loud=1"], "LoadBalancingConfig has no argument 'loud'"),
        (["--out", "e.gif", "--fps", "0"], "argument --fps:"),
        (["--out", "e.gif", "--steps", "0"], "argument --steps:"),
    ],
)
def test_bad_record_arguments_are_one_line_errors(args, message, tmp_path, capsys):
    defaults = {"--env": "opsgym/LoadBalancing-v0", "--policy": "round_robin"}
    given = dict(zip(args[::2], args[1::2]))
    flags = [part for key, value in {**defaults, **given}.items() for part in (key, value)]
    flags = [str(tmp_path / f) if f.startswith("e.") else f for f in flags]
    assert main(["record", *flags]) == 2
    assert message in capsys.readouterr().err.replace(str(tmp_path) + "/", "")
    assert not list(tmp_path.iterdir())
