"""Replacing one block of a commented YAML file without touching the rest."""

from __future__ import annotations

import pytest
import yaml

from opsgym.baselines import sb3
from opsgym.train.yaml_blocks import set_block

FILE = """\
# header: what this file is
#   and how to use it

# status: not tuned
default:
  n_timesteps: 100
  normalize: {norm_obs: false}

# status: tuned by hand (notes
#   that run over two lines)
opsgym/A-v0:
  gamma: 0.9
  # an inner note
  policy_kwargs:
    net_arch: [64, 64]

# status: kept
opsgym/B-v0:
  gamma: 0.8
"""


def test_replacing_a_block_keeps_every_other_line():
    new = set_block(FILE, ("opsgym/A-v0",), {"gamma": 0.95, "n_steps": 64}, "status: tuned")
    lines = new.splitlines()
    old = FILE.splitlines()
    assert lines[:8] == old[:8]  # the header and the default block, comments and all
    assert lines[8:11] == ["# status: tuned", "opsgym/A-v0:", "  gamma: 0.95"]
    assert lines[11:] == ["  n_steps: 64", "", "# status: kept", "opsgym/B-v0:", "  gamma: 0.8"]
    assert yaml.safe_load(new)["opsgym/A-v0"] == {"gamma": 0.95, "n_steps": 64}


def test_a_new_block_is_appended_with_its_status_and_nested_leaves_in_flow_style():
    block = {"policy_kwargs": {"net_arch": [32, 32]}, "normalize": {"norm_obs": True}}
    new = set_block(FILE, ("opsgym/C-v0",), block, "status: new")
    assert new.startswith(FILE)
    assert new[len(FILE) :].splitlines() == [
        "",
        "# status: new",
        "opsgym/C-v0:",
        "  policy_kwargs:",
        "    net_arch: [32, 32]",
        "  normalize: {norm_obs: true}",
    ]


def test_nested_blocks_are_created_then_replaced_under_their_parent():
    text = "# agents\n"
    text = set_block(text, ("ucb1", "opsgym/A-v0"), {"c": 0.5}, "status: a")
    text = set_block(text, ("ucb1", "opsgym/B-v0"), {"c": 0.7}, "status: b")
    text = set_block(text, ("sarsa", "opsgym/A-v0"), {"bins": 3}, "status: c")
    text = set_block(text, ("ucb1", "opsgym/A-v0"), {"c": 0.25}, "status: a2")
    assert yaml.safe_load(text) == {
        "ucb1": {"opsgym/A-v0": {"c": 0.25}, "opsgym/B-v0": {"c": 0.7}},
        "sarsa": {"opsgym/A-v0": {"bins": 3}},
    }
    assert "status: a\n" not in text and "  # status: a2\n  opsgym/A-v0:\n    c: 0.25" in text
    assert "  # status: b\n  opsgym/B-v0:\n    c: 0.7" in text


def test_long_status_lines_wrap_as_comments():
    status = "status: " + " ".join(["word"] * 60)
    new = set_block(FILE, ("opsgym/B-v0",), {"gamma": 0.5}, status)
    comments = [line for line in new.splitlines()[15:] if line.startswith("#")]
    assert len(comments) > 1 and all(len(line) <= 90 for line in comments)
    assert yaml.safe_load(new)["opsgym/B-v0"] == {"gamma": 0.5}


def test_a_layout_it_cannot_follow_is_refused_not_mangled():
    flow = "{opsgym/A-v0: {gamma: 0.9}}\n"
    with pytest.raises(ValueError, match="broke the file|layout"):
        set_block(flow, ("opsgym/A-v0",), {"gamma": 0.5}, "status: x")
    with pytest.raises(ValueError, match="not valid YAML"):
        set_block("a: [\n", ("a",), {}, "x")


@pytest.mark.parametrize("algo", ["ppo", "a2c", "dqn"])
def test_the_shipped_files_round_trip_a_block_edit(algo):
    text = sb3.hyperparams_path(algo).read_text()
    before = yaml.safe_load(text)
    key = "opsgym/LoadBalancing-v0"
    new = set_block(text, (key,), {"gamma": 0.5}, "status: test")
    after = yaml.safe_load(new)
    assert after.pop(key) == {"gamma": 0.5}
    before.pop(key)
    assert after == before
    kept = [line for line in text.splitlines() if line.startswith("#") and "status" not in line]
    assert all(line in new.splitlines() for line in kept[:3])
