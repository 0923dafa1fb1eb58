"""Every environment's configuration refuses silently wrong input, swept over the registry.

Each sweep tries one class of mistake on every registered id (its scenarios included):
a string where a boolean is expected, numpy scalars and arrays for every numeric field,
an unknown key, an argument its mode leaves unused, an absurd size.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from types import SimpleNamespace

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.envs.registration import load_env_creator

import opsgym.envs
from opsgym.envs.core import validation
from opsgym.envs.core.config import settings
from opsgym.envs.core.kinds import Choice, Flag, Integer, Items, OrNone, Real
from opsgym.envs.core.load_traces import load_trace
from opsgym.train.cli import parse_assignments

ENV_IDS = opsgym.envs.opsgym_ids()
ENV_CLASSES = {env_id: load_env_creator(gym.spec(env_id).entry_point) for env_id in ENV_IDS}
CONFIG_CLASSES = {env_id: env.config_class for env_id, env in ENV_CLASSES.items()}
BASE_IDS = sorted({env_id for env_id in ENV_IDS if re.fullmatch(r"opsgym/\w+-v\d+", env_id)})


def _kind(kind):
    """The kind of a field's value, looking through None."""
    return kind.kind if isinstance(kind, OrNone) else kind


def _fields_of_kind(config_class, kinds) -> list[str]:
    return [name for name, s in settings(config_class).items() if isinstance(_kind(s.kind), kinds)]


def _spec_kwargs(env_id: str) -> dict:
    return dict(gym.spec(env_id).kwargs)


def _used(config_class, name: str, kwargs: dict) -> bool:
    """Whether field ``name`` is read under the configuration ``kwargs`` builds."""
    condition = settings(config_class)[name].used_when
    return condition is None or condition.holds(config_class(**kwargs))


def test_every_registered_environment_has_a_configuration_class():
    assert len(BASE_IDS) == 11
    for env_id, config_class in CONFIG_CLASSES.items():
        assert dataclasses.is_dataclass(config_class), env_id
        assert config_class.__dataclass_params__.frozen, env_id


@pytest.mark.parametrize("env_id", BASE_IDS)
def test_the_arguments_table_lists_exactly_the_fields(env_id):
    doc = ENV_CLASSES[env_id].__doc__
    section = doc[doc.index("## Arguments") : doc.index("## Vector Environment")]
    rows = re.findall(r"^\s*\| `(\w+)` \|", section, flags=re.MULTILINE)
    assert rows == list(settings(CONFIG_CLASSES[env_id]))


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_the_configuration_is_hashable_json_able_and_the_env_reads_it(env_id):
    env = gym.make(env_id).unwrapped
    config = env.config
    assert isinstance(config, CONFIG_CLASSES[env_id])
    assert hash(config) == hash(CONFIG_CLASSES[env_id](**_spec_kwargs(env_id)))
    json.dumps(dataclasses.asdict(config))
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(config, next(iter(settings(type(config)))), None)


@pytest.mark.parametrize("env_id", BASE_IDS)
def test_a_whole_configuration_is_accepted_as_config(env_id):
    config = CONFIG_CLASSES[env_id]()
    env = gym.make(env_id, config=config).unwrapped
    assert env.config is config
    with pytest.raises(TypeError, match="not both"):
        ENV_CLASSES[env_id](config=config, **{next(iter(settings(type(config)))): None})
    with pytest.raises(TypeError, match="config must be"):
        ENV_CLASSES[env_id](config={"a": 1})


@pytest.mark.parametrize("env_id", [i for i in BASE_IDS if gym.spec(i).vector_entry_point])
def test_a_native_vector_env_reads_the_same_configuration(env_id):
    config = CONFIG_CLASSES[env_id]()
    env = gym.make_vec(env_id, num_envs=2, vectorization_mode="vector_entry_point", config=config)
    assert env.unwrapped.config is config
    assert env.single_observation_space == gym.make(env_id, config=config).observation_space
    with pytest.raises(TypeError, match="not_an_argument"):
        gym.make_vec(env_id, num_envs=2, vectorization_mode="vector_entry_point", not_an_argument=1)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_an_unknown_key_is_named_with_the_valid_ones(env_id):
    with pytest.raises(TypeError) as error:
        gym.make(env_id, not_an_argument=1)
    message = str(error.value)
    assert "'not_an_argument'" in message
    assert all(name in message for name in settings(CONFIG_CLASSES[env_id]))


BOOLEAN_IMPOSTORS = ("False", "false", "no", "0", 0, 1, None, 0.0)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_a_boolean_field_refuses_anything_but_a_boolean(env_id):
    config_class = CONFIG_CLASSES[env_id]
    names = _fields_of_kind(config_class, Flag)
    kwargs = _spec_kwargs(env_id)
    for name in names:
        for impostor in BOOLEAN_IMPOSTORS:
            with pytest.raises(TypeError, match=f"{name} must be true or false"):
                gym.make(env_id, **{**kwargs, name: impostor})
        for answer in (True, False, np.bool_(True)):
            built = config_class(**{**kwargs, name: answer})
            assert getattr(built, name) is bool(answer)


def test_load_balancing_refuses_the_string_false_for_allow_overload():
    # the string "False" is truthy: taken as a boolean, it would run overloaded
    with pytest.raises(TypeError, match="allow_overload"):
        gym.make("opsgym/LoadBalancing-v0", allow_overload="False", load=1.2)
    with pytest.raises(ValueError, match="allow_overload=True"):
        gym.make("opsgym/LoadBalancing-v0", allow_overload=False, load=1.2)


def _as_numpy(value, dtype=None):
    """A field's value as numpy gives it: a scalar or an array."""
    if isinstance(value, tuple):
        return np.array(value, dtype=dtype)
    return np.array(value, dtype=dtype)[()]


def _numeric_fields(config_class) -> list[str]:
    return _fields_of_kind(config_class, (Real, Integer, Items))


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_numpy_scalars_and_arrays_are_taken_as_the_python_values(env_id):
    config_class = CONFIG_CLASSES[env_id]
    kwargs = _spec_kwargs(env_id)
    reference = config_class(**kwargs)
    as_numpy = {}
    for name in _numeric_fields(config_class):
        value = getattr(reference, name)
        if value is None or (isinstance(value, tuple) and not value):
            continue
        as_numpy[name] = _as_numpy(value)
    assert as_numpy, "every environment has numeric fields"
    converted = config_class(**{**kwargs, **as_numpy})
    assert converted == reference
    for name in as_numpy:
        assert type(getattr(converted, name)) is type(getattr(reference, name)), name
    json.dumps(dataclasses.asdict(converted))
    hash(converted)
    env = gym.make(env_id, **{**kwargs, **as_numpy})
    env.reset(seed=0)
    env.step(env.action_space.sample())


@pytest.mark.parametrize("env_id", BASE_IDS)
def test_numpy_float32_and_int32_are_accepted_too(env_id):
    config_class = CONFIG_CLASSES[env_id]
    for name in _fields_of_kind(config_class, (Real, Integer)):
        default = getattr(config_class(), name)
        if default is None or not _used(config_class, name, {}):
            continue  # float32 rounds: an unused field would no longer hold its default
        narrow = np.float32(default) if isinstance(default, float) else np.int32(default)
        value = getattr(config_class(**{name: narrow}), name)
        assert type(value) is type(default) and value == pytest.approx(default, rel=1e-6)


@pytest.mark.parametrize("env_id", BASE_IDS)
def test_a_bool_is_not_a_number(env_id):
    config_class = CONFIG_CLASSES[env_id]
    for name in _fields_of_kind(config_class, (Real, Integer)):
        with pytest.raises(TypeError, match=name):
            config_class(**{name: True})


def _unused_arguments(config_class, kwargs: dict) -> list[tuple[str, object]]:
    """Each field the configuration ``kwargs`` leaves unused, with a valid other value."""
    found = []
    for item in dataclasses.fields(config_class):
        declared = item.metadata["setting"]
        if declared.used_when is None or _used(config_class, item.name, kwargs):
            continue
        found.append((item.name, _other_valid_value(declared.kind, item.default)))
    return found


def _other_valid_value(kind, default):
    """A value of ``kind`` other than ``default`` that the field itself accepts."""
    kind = _kind(kind)
    if isinstance(kind, Choice):
        candidates = kind.options
    elif isinstance(kind, Flag):
        candidates = (True, False)
    elif isinstance(kind, (Real, Integer)):
        candidates = (1, 2, 3, 5, 0, 0.5, 0.75, 1.5, 10.0)
    else:
        candidates = ("some_file.csv",)  # a path
    return next(x for x in candidates if x != default and _accepts(kind, x))


def _succeeds(call, *args, **kwargs) -> bool:
    """Whether ``call(*args, **kwargs)`` returns without a TypeError or ValueError."""
    try:
        call(*args, **kwargs)
    except (TypeError, ValueError):
        return False
    return True


def _accepts(kind, value) -> bool:
    return _succeeds(kind.check, "x", value)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_an_argument_its_mode_leaves_unused_is_refused(env_id):
    config_class = CONFIG_CLASSES[env_id]
    kwargs = _spec_kwargs(env_id)
    unused = _unused_arguments(config_class, kwargs)
    for name, value in unused:
        with pytest.raises(ValueError, match=f"{name} is used only when"):
            gym.make(env_id, **{**kwargs, name: value})


def _mode_leaving_unused(config_class, name: str) -> dict:
    """Arguments, valid on their own, under which field ``name`` is not used."""
    condition = settings(config_class)[name].used_when
    kind = _kind(settings(config_class)[condition.name].kind)
    if condition.negated:
        candidates = condition.values
    elif isinstance(kind, Choice):
        candidates = [option for option in kind.options if option not in condition.values]
    else:
        candidates = [x for x in (0.0, 0, 1, 2, 0.5, "some_file.csv") if x not in condition.values]
    for value in candidates:
        mode = _with_required(config_class, {condition.name: value})
        if _accepts(kind, value) and _succeeds(config_class, **mode):
            return mode
    raise AssertionError(f"no mode leaves {name} unused")


def _with_required(config_class, kwargs: dict) -> dict:
    """``kwargs`` and a (file name) value for each field they make required."""
    defaults = {item.name: item.default for item in dataclasses.fields(config_class)}
    values = SimpleNamespace(**{**defaults, **kwargs})
    required = {
        name: "some_file.csv"
        for name, declared in settings(config_class).items()
        if declared.required and declared.used_when.holds(values)
    }
    return {**kwargs, **required}


@pytest.mark.parametrize("env_id", BASE_IDS)
def test_every_argument_only_some_modes_use_is_refused_under_the_others(env_id):
    config_class = CONFIG_CLASSES[env_id]
    conditional = [n for n, s in settings(config_class).items() if s.used_when is not None]
    assert conditional, "every environment has arguments that only some modes read"
    for name in conditional:
        mode = _mode_leaving_unused(config_class, name)
        value = _other_valid_value(settings(config_class)[name].kind, getattr(config_class(), name))
        with pytest.raises(ValueError, match=f"{name} is used only when"):
            config_class(**mode, **{name: value})


@pytest.mark.parametrize(
    "env_id, kwargs, field",
    [
        ("opsgym/Caching-v0", {"trace_path": "trace.csv"}, "trace_path"),
        ("opsgym/ResourceAllocation-v0", {"trace_path": "jobs.csv"}, "trace_path"),
        ("opsgym/AnomalyDetection-v0", {"csv_path": "series.csv"}, "csv_path"),
        ("opsgym/LoadBalancing-v0", {"pareto_shape": 2.5}, "pareto_shape"),
        ("opsgym/Autoscaling-v0", {"workload": "nasa", "noise": 0.2}, "noise"),
    ],
)
def test_known_contradictions_are_named(env_id, kwargs, field):
    with pytest.raises(ValueError, match=f"{field} is used only when"):
        gym.make(env_id, **kwargs)


@pytest.mark.parametrize(
    "env_id, field",
    [
        ("opsgym/Caching-v0", "trace_path"),
        ("opsgym/ResourceAllocation-v0", "trace_path"),
        ("opsgym/AnomalyDetection-v0", "csv_path"),
    ],
)
def test_a_trace_workload_requires_its_path(env_id, field):
    workload = "csv" if field == "csv_path" else "trace"
    with pytest.raises(ValueError, match=f"{field} is required when workload is '{workload}'"):
        gym.make(env_id, workload=workload)


def _size_fields(config_class) -> list[tuple[str, int]]:
    """Each integer field (or list) with an upper limit, and that limit."""
    found = []
    for name, declared in settings(config_class).items():
        kind = _kind(declared.kind)
        if isinstance(kind, Integer) and kind.high is not None:
            found.append((name, kind.high))
        elif isinstance(kind, Items) and kind.max_length is not None:
            found.append((name, kind.max_length))
    return found


@pytest.mark.parametrize("env_id", BASE_IDS)
def test_an_absurd_size_is_refused_with_its_limit_named(env_id):
    config_class = CONFIG_CLASSES[env_id]
    limited = _size_fields(config_class)
    names = [name for name, _ in limited]
    assert any("episode" in name or name == "n_jobs" for name in names), names
    for name, limit in limited:
        kind = _kind(settings(config_class)[name].kind)
        value = [1] * (limit + 1) if isinstance(kind, Items) else 10**12
        with pytest.raises(ValueError, match=f"{name} must .*{limit:,}"):
            config_class(**{name: value})


@pytest.mark.parametrize("env_id", BASE_IDS)
def test_a_float_size_such_as_1e12_names_the_limit(env_id):
    config_class = CONFIG_CLASSES[env_id]
    name, limit = next(
        (n, lim) for n, lim in _size_fields(config_class) if "episode" in n or n == "n_jobs"
    )
    with pytest.raises(TypeError, match=f"{name} must be an integer in .*{limit:,}"):
        config_class(**{name: 1e12})


def test_the_cli_reads_python_and_json_literals():
    parsed = parse_assignments(
        [
            "allow_overload=False",
            "bill_booting=true",
            "trace_scale=None",
            "episode_length=1000",
            "load=0.9",
            "service_rates=[1, 2.5]",
            "mode=feedback",
            "workload=/tmp/trace.csv",
            "big=1e6",
        ],
        "--env-arg",
    )
    assert parsed == {
        "allow_overload": False,
        "bill_booting": True,
        "trace_scale": None,
        "episode_length": 1000,
        "load": 0.9,
        "service_rates": [1, 2.5],
        "mode": "feedback",
        "workload": "/tmp/trace.csv",
        "big": 1e6,
    }
    assert parsed["allow_overload"] is False
    assert parse_assignments(["allow_overload=no"], "--env-arg") == {"allow_overload": "no"}


def test_an_edited_trace_file_is_read_again(tmp_path):
    path = tmp_path / "load.csv"
    path.write_text("timestamp,value\n2024-01-01T00:00:00,60\n2024-01-01T00:01:00,120\n")
    assert load_trace(str(path), 60.0).rates.tolist() == [1.0, 2.0]
    stat = path.stat()
    path.write_text("timestamp,value\n2024-01-01T00:00:00,180\n2024-01-01T00:01:00,240\n")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same time: the size differs
    assert load_trace(str(path), 60.0).rates.tolist() == [3.0, 4.0]
    path.write_text("timestamp,value\n2024-01-01T00:00:00,300\n2024-01-01T00:01:00,360\n")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # same size, later
    assert load_trace(str(path), 60.0).rates.tolist() == [5.0, 6.0]


def test_validation_plain_turns_numpy_into_python():
    assert validation.plain(np.int64(3)) == 3 and type(validation.plain(np.int64(3))) is int
    assert validation.plain(np.array([[1, 2]])) == [[1, 2]]
    assert validation.plain((np.float32(0.5), [np.bool_(True)])) == (0.5, [True])
    assert type(validation.plain((np.float32(0.5),))[0]) is float
