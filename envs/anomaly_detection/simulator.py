"""Metric series with labelled anomaly windows, their detector features, and NAB scoring.

No gymnasium here: the parts an operator or an anomaly-detection researcher checks.

- :func:`synthetic_metrics`: a service's CPU, memory, request rate and response time
  with daily and weekly cycles, and injected anomalies with ground-truth windows.
- :func:`nyc_taxi` and :func:`read_labelled_csv`: real series to replay.
- :func:`detector_features`: what a detector sees at each step, computed from the past.
- :class:`AlertScorer`: the Numenta Anomaly Benchmark's window scoring, one step at a time.

Scoring follows Lavin and Ahmad, "Evaluating Real-time Anomaly Detection Algorithms: the
Numenta Anomaly Benchmark", ICMLA 2015: a window's first true alert earns
``A_TP * sigma(y)`` with the scaled sigmoid ``sigma(y) = 2 / (1 + exp(5 y)) - 1`` of its
relative position ``y`` in the window (-1 at its start, 0 at its end); a missed window
costs ``A_FN``; a false alert costs ``A_FP``. Here sigma is renormalized so that an alert
at a window's first step earns exactly ``A_TP``, and every false alert costs the same
``A_FP`` (NAB also scales false alerts just after a window by the sigmoid).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from opsgym.envs.core.data_files import DataFileError, csv_rows, packaged, parse_number, read_text

# NAB's standard application profile (NAB config/profiles.json): weights of a true
# positive, a false positive and a false negative.
NAB_STANDARD_WEIGHTS = {"tp": 1.0, "fp": 0.11, "fn": 1.0}

SYNTHETIC_METRICS = ("requests", "cpu", "memory", "latency")
ANOMALY_KINDS = ("spike", "drop", "decouple")

# NYC taxi passengers per 30 min (NAB data/realKnownCause/nyc_taxi.csv, MIT licence in
# envs/data/LICENSE-NAB.txt) and NAB's labelled windows for it (labels/combined_windows.json),
# inclusive: the NYC marathon, Thanksgiving, Christmas, New Year and the January blizzard.
NYC_TAXI_FILE = "nyc_taxi.csv"
NYC_TAXI_WINDOWS = (
    ("2014-10-30 15:30:00", "2014-11-03 22:30:00"),
    ("2014-11-25 12:00:00", "2014-11-29 19:00:00"),
    ("2014-12-23 11:30:00", "2014-12-27 18:30:00"),
    ("2014-12-29 21:30:00", "2015-01-03 04:30:00"),
    ("2015-01-24 20:30:00", "2015-01-29 03:30:00"),
)
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"


@dataclass(frozen=True)
class LabelledSeries:
    """Metric values over time and the windows in which they are anomalous.

    Attributes:
        values: float64 array of shape (steps, metrics).
        windows: ``(start, end)`` step ranges, end exclusive, sorted and disjoint.
    """

    values: np.ndarray
    windows: tuple[tuple[int, int], ...]


def windows_from_labels(labels) -> tuple[tuple[int, int], ...]:
    """The maximal runs of nonzero labels, as ``(start, end)`` with end exclusive."""
    windows = []
    start = None
    for t, label in enumerate(labels):
        if label and start is None:
            start = t
        elif not label and start is not None:
            windows.append((start, t))
            start = None
    if start is not None:
        windows.append((start, len(labels)))
    return tuple(windows)


def read_labelled_csv(path: str | Path) -> tuple[list[str], LabelledSeries]:
    """Read a CSV with a header and the columns ``timestamp,value`` and optionally ``label``.

    Labels are 0 or 1; runs of 1 become the anomaly windows. Without a label column the
    series has no windows. Values may be negative (a metric need not be a count).

    Returns:
        The timestamps as written, and the series with one metric.

    Raises:
        DataFileError: the file cannot be read, a column is missing, a value is not a
            finite number or a label is not 0 or 1, naming the file and the line.
    """
    rows = csv_rows(read_text(path))
    header_line, header = next(rows, (1, []))
    if "timestamp" not in header or "value" not in header:
        raise DataFileError(
            path, "the header must name the columns timestamp,value[,label]", line=header_line
        )
    time_col, value_col = header.index("timestamp"), header.index("value")
    label_col = header.index("label") if "label" in header else None
    width = max(time_col, value_col, -1 if label_col is None else label_col) + 1
    timestamps, values, labels = [], [], []
    for line, row in rows:
        if len(row) < width:
            raise DataFileError(path, f"expected {len(header)} fields, got {row}", line=line)
        values.append(parse_number(row[value_col], "value", path, line))
        label = 0
        if label_col is not None:
            label = parse_number(row[label_col], "label", path, line, integer=True)
            if label not in (0, 1):
                raise DataFileError(path, f"label must be 0 or 1, got {label}", line=line)
        labels.append(label)
        timestamps.append(row[time_col])
    if not values:
        raise DataFileError(path, "no data rows")
    series = LabelledSeries(np.array(values).reshape(-1, 1), windows_from_labels(labels))
    return timestamps, series


def nyc_taxi() -> LabelledSeries:
    """The shipped NYC taxi series with NAB's five labelled windows."""
    timestamps, series = read_labelled_csv(packaged(NYC_TAXI_FILE))
    times = [datetime.strptime(stamp, TIMESTAMP_FORMAT) for stamp in timestamps]
    labels = np.zeros(len(times), dtype=bool)
    for first, last in NYC_TAXI_WINDOWS:
        low = datetime.strptime(first, TIMESTAMP_FORMAT)
        high = datetime.strptime(last, TIMESTAMP_FORMAT)
        labels |= np.array([low <= time <= high for time in times])
    return LabelledSeries(series.values, windows_from_labels(labels))


def synthetic_metrics(
    rng: np.random.Generator,
    history: int,
    steps: int,
    steps_per_day: int,
    anomalies_per_week: float,
    window_range: tuple[int, int],
) -> tuple[LabelledSeries, list[str]]:
    """A service's metrics over ``history + steps`` steps, anomalies in the last ``steps``.

    Request rate [requests/s]: 1000 x (1 + 0.5 sin(daily phase)) x 0.7 on weekends, with
    5% lognormal noise. CPU [%]: 10 + 0.04 per request/s plus N(0, 2), clipped to [0, 100].
    Memory [%]: 50 + 5 sin(daily phase) plus N(0, 1). Response time [ms]: 20 / (1 - rho)
    with rho the CPU utilization capped at 0.95 (the M/M/1 response time for a 20 ms
    service time, Kleinrock, Queueing Systems vol. 1, 1975, eq. 3.26), with 5% lognormal
    noise.

    Anomaly windows start after exponential gaps (mean one week / ``anomalies_per_week``)
    and last a uniform number of steps in ``window_range``. Each is one of:

    - ``"spike"``: CPU +40 points, memory +25 points or response time x 3 (one metric);
    - ``"drop"``: traffic falls to 30% (CPU and response time follow);
    - ``"decouple"``: CPU per request doubles (a bad deploy): CPU stops tracking requests.

    Returns:
        The series (windows counted from the first step after the history) and each
        window's kind.
    """
    total = history + steps
    requests_profile, memory_profile = _daily_profiles(total, steps_per_day)
    noise = rng.standard_normal(4 * total)  # the same draws as four calls, one per series
    requests = requests_profile * np.exp(0.05 * noise[:total])
    cpu_per_request = np.full(total, 0.04)
    memory = memory_profile + noise[total : 2 * total]
    cpu_noise = 2.0 * noise[2 * total : 3 * total]
    latency_noise = np.exp(0.05 * noise[3 * total :])

    windows, kinds = [], []
    mean_gap = 7 * steps_per_day / anomalies_per_week if anomalies_per_week > 0 else math.inf
    low, high = window_range
    start = rng.exponential(mean_gap)
    cpu_spike, latency_spike = np.zeros(total), np.ones(total)
    while start < steps:
        first = int(start)
        end = min(steps, first + int(rng.integers(low, high + 1)))
        kind = ANOMALY_KINDS[int(rng.integers(len(ANOMALY_KINDS)))]
        span = slice(history + first, history + end)
        if kind == "spike":
            metric = int(rng.integers(3))
            if metric == 0:
                cpu_spike[span] = 40.0
            elif metric == 1:
                memory[span] += 25.0
            else:
                latency_spike[span] = 3.0
        elif kind == "drop":
            requests[span] *= 0.3
        else:
            cpu_per_request[span] *= 2.0
        windows.append((first, end))
        kinds.append(kind)
        start = end + rng.exponential(mean_gap)

    cpu = np.clip(10.0 + cpu_per_request * requests + cpu_noise + cpu_spike, 0.0, 100.0)
    latency = 20.0 / (1.0 - np.minimum(cpu / 100.0, 0.95)) * latency_noise * latency_spike
    values = np.stack([requests, cpu, memory, latency], axis=1)
    return LabelledSeries(values, tuple(windows)), kinds


@functools.lru_cache(maxsize=8)
def _daily_profiles(total: int, steps_per_day: int) -> tuple[np.ndarray, np.ndarray]:
    """The noiseless request rate and memory of :func:`synthetic_metrics` (read-only)."""
    t = np.arange(total)
    daily = np.sin(2.0 * np.pi * (t % steps_per_day) / steps_per_day)
    weekend = (t // steps_per_day) % 7 >= 5
    requests = 1000.0 * (1.0 + 0.5 * daily) * np.where(weekend, 0.7, 1.0)
    memory = 50.0 + 5.0 * daily
    requests.flags.writeable = memory.flags.writeable = False
    return requests, memory


# Scale of the squashing z / (Z_SCALE + |z|): a 3-sigma deviation maps to 0.5.
Z_SCALE = 3.0
FEATURES_PER_METRIC = 4
TIME_FEATURES = 4


def squash(z: np.ndarray) -> np.ndarray:
    """Map a z-score to (-1, 1), keeping its order and sign."""
    return z / (Z_SCALE + np.abs(z))


def unsquash(s: float) -> float:
    """Invert :func:`squash`."""
    return Z_SCALE * s / (1.0 - abs(s)) if abs(s) < 1.0 else math.copysign(math.inf, s)


def history_length(steps_per_day: int, history_weeks: int, rolling_window: int) -> int:
    """Steps of past data the features need before the first scored step."""
    return history_weeks * 7 * steps_per_day + rolling_window


def detector_features(
    values: np.ndarray,
    first: int,
    steps_per_day: int,
    history_weeks: int,
    rolling_window: int,
) -> np.ndarray:
    """What a detector sees at each step from ``first`` on, computed from the past only.

    Per metric, four z-scores squashed to (-1, 1) by :func:`squash`:

    1. level: against the mean and standard deviation of ``values[:first]`` (a static
       threshold on the raw value is a threshold on this);
    2. rolling: against the mean and standard deviation of the previous ``rolling_window``
       steps (the classic 3-sigma rule);
    3. seasonal: the residual from the mean of the same step in the previous
       ``history_weeks`` weeks, over the root mean square of the previous
       ``rolling_window`` residuals;
    4. change: the step's difference over the rolling standard deviation.

    Then sin and cos of the time of day and of the day of the week.

    Args:
        values: float array (steps, metrics); needs ``first >= history_length(...)``.
        first: the first step described.

    Returns:
        float32 array (steps - first, 4 * metrics + 4), metric-major.
    """
    steps, n_metrics = values.shape
    period = 7 * steps_per_day
    w = rolling_window
    x = np.ascontiguousarray(values.T)  # one row per metric
    history = x[:, :first]
    floor = 1e-3 * (np.abs(history.mean(axis=1)) + 1.0)[:, None]  # keeps z finite on flat series
    now = x[:, first:]
    level = (now - history.mean(axis=1)[:, None]) / np.maximum(history.std(axis=1)[:, None], floor)

    sums = _prefix_sums(x)
    squares = _prefix_sums(x * x)
    mean = (sums[:, first:steps] - sums[:, first - w : steps - w]) / w
    var = (squares[:, first:steps] - squares[:, first - w : steps - w]) / w - mean * mean
    std = np.sqrt(np.maximum(var, floor * floor))
    rolling = (now - mean) / std
    change = (now - x[:, first - 1 : steps - 1]) / std

    start = history_weeks * period
    baseline = sum(
        x[:, start - k * period : steps - k * period] for k in range(1, history_weeks + 1)
    )
    residual = x[:, start:] - baseline / history_weeks
    res_sq = _prefix_sums(residual * residual)
    r = first - start  # the first step's index into residual
    rms = np.sqrt(np.maximum((res_sq[:, r:-1] - res_sq[:, r - w : -1 - w]) / w, floor * floor))
    seasonal = residual[:, r:] / rms

    out = np.empty((steps - first, FEATURES_PER_METRIC * n_metrics + TIME_FEATURES))
    z = squash(np.stack([level, rolling, seasonal, change], axis=2))  # (metric, step, feature)
    out[:, :-TIME_FEATURES] = z.transpose(1, 0, 2).reshape(steps - first, -1)
    out[:, -TIME_FEATURES:] = _time_features(first, steps, steps_per_day)
    return out.astype(np.float32)


def _prefix_sums(x: np.ndarray) -> np.ndarray:
    """Per row, the sums of its first 0, 1, ..., n values."""
    sums = np.zeros((x.shape[0], x.shape[1] + 1))
    np.cumsum(x, axis=1, out=sums[:, 1:])
    return sums


@functools.lru_cache(maxsize=8)
def _time_features(first: int, steps: int, steps_per_day: int) -> np.ndarray:
    """Sin and cos of the time of day and of the day of the week, steps first..steps-1."""
    period = 7 * steps_per_day
    t = np.arange(first, steps)
    day = 2.0 * np.pi * (t % steps_per_day) / steps_per_day
    week = 2.0 * np.pi * (t % period) / period
    features = np.stack([np.sin(day), np.cos(day), np.sin(week), np.cos(week)], 1)
    features.flags.writeable = False
    return features


def window_credit(position: int, length: int) -> float:
    """NAB's scaled sigmoid for an alert ``position`` steps into a window of ``length``.

    Renormalized so that the window's first step earns 1; it falls to about 0.86 at the
    window's middle and reaches 0 just after its end.
    """
    y = (position - length) / length  # -1 at the first step, 0 just after the last

    def sigma(v: float) -> float:
        return 2.0 / (1.0 + math.exp(5.0 * v)) - 1.0

    return sigma(y) / sigma(-1.0)


class AlertScorer:
    """Scores alerts against labelled windows one step at a time, as NAB does.

    Args:
        windows: ``(start, end)`` step ranges of the episode, end exclusive, disjoint.
        steps: the episode's length; windows are clipped to it.
        tp_weight, fp_weight, fn_weight: NAB's A_TP, A_FP and A_FN.
    """

    def __init__(
        self,
        windows,
        steps: int,
        tp_weight: float = 1.0,
        fp_weight: float = 0.11,
        fn_weight: float = 1.0,
    ) -> None:
        self.windows = [(max(0, a), min(steps, b)) for a, b in windows if b > 0 and a < steps]
        self.tp_weight, self.fp_weight, self.fn_weight = tp_weight, fp_weight, fn_weight
        self.window_of = [-1] * steps
        self.credit = [0.0] * steps
        self.last_step_of = [-1] * steps  # window index whose last step this is
        for i, (a, b) in enumerate(self.windows):
            for t in range(a, b):
                self.window_of[t] = i
                self.credit[t] = window_credit(t - a, b - a)
            self.last_step_of[b - 1] = i
        self.detected_at = [-1] * len(self.windows)
        self.false_alerts = 0
        self.alerts = 0
        self.score = 0.0

    def record(self, t: int, alert: bool) -> dict[str, float]:
        """Score step ``t``; returns the components ``detection``, ``false_alert``, ``miss``.

        ``detection`` is the credit of a window's first alert, ``false_alert`` -1 for an
        alert outside every window and ``miss`` -1 at the last step of an undetected window.
        """
        detection = false_alert = miss = 0.0
        window = self.window_of[t]
        if alert:
            self.alerts += 1
            if window < 0:
                false_alert = -1.0
                self.false_alerts += 1
            elif self.detected_at[window] < 0:
                self.detected_at[window] = t
                detection = self.credit[t]
        ending = self.last_step_of[t]
        if ending >= 0 and self.detected_at[ending] < 0:
            miss = -1.0
        self.score += (
            self.tp_weight * detection + self.fp_weight * false_alert + self.fn_weight * miss
        )
        return {"detection": detection, "false_alert": false_alert, "miss": miss}

    def metrics(self) -> dict[str, float]:
        """Window-level precision, recall and F1, detection delay, and NAB's score.

        Precision counts each detected window once against every false alert; with no
        alert it is 1. Recall is 1 with no window. ``nab_score`` is NAB's normalized
        score, 100 x (score - null) / (perfect - null), with the null detector never
        alerting and the perfect one alerting at every window's first step; with no window
        it is 100 without false alerts and 0 with any.
        """
        n = len(self.windows)
        detected = [t - a for t, (a, _) in zip(self.detected_at, self.windows) if t >= 0]
        hits = len(detected)
        precision = hits / (hits + self.false_alerts) if hits + self.false_alerts else 1.0
        recall = hits / n if n else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        null, perfect = -self.fn_weight * n, self.tp_weight * n
        if perfect > null:
            nab = 100.0 * (self.score - null) / (perfect - null)
        else:
            nab = 100.0 if self.false_alerts == 0 else 0.0
        return {
            "precision": precision,
            "recall": recall,
            "f1": f1,
            "nab_score": nab,
            "reward_score": self.score,
            "mean_detection_delay_steps": float(np.mean(detected)) if detected else 0.0,
            "windows": float(n),
            "false_alerts": float(self.false_alerts),
            "alerts": float(self.alerts),
        }


class AlertScorers:
    """:class:`AlertScorer` for many episodes at once, as numpy arrays (for vector envs).

    Each instance's windows come from its own :class:`AlertScorer` (:meth:`load`), whose
    per-step tables the steps then index for all instances together.

    Args:
        instances: the number of episodes scored together.
        steps: each episode's length.
        weights: NAB's A_TP, A_FP and A_FN.
    """

    def __init__(self, instances: int, steps: int, weights: tuple[float, float, float]) -> None:
        self.weights = weights
        self.scorers: list[AlertScorer | None] = [None] * instances
        self.window_of = np.zeros((instances, steps), dtype=np.int64)
        self.credit = np.zeros((instances, steps))
        self.last_step_of = np.zeros((instances, steps), dtype=np.int64)
        self.detected_at = np.zeros((instances, 1), dtype=np.int64)
        self.alerts = np.zeros(instances, dtype=np.int64)
        self.false_alerts = np.zeros(instances, dtype=np.int64)
        self.score = np.zeros(instances)

    def load(self, i: int, scorer: AlertScorer) -> None:
        """Score instance i's new episode with the windows of ``scorer``."""
        self.scorers[i] = scorer
        self.window_of[i] = scorer.window_of
        self.credit[i] = scorer.credit
        self.last_step_of[i] = scorer.last_step_of
        extra = len(scorer.windows) - self.detected_at.shape[1]
        if extra > 0:
            self.detected_at = np.pad(self.detected_at, ((0, 0), (0, extra)))
        self.detected_at[i] = -1
        self.alerts[i] = self.false_alerts[i] = 0
        self.score[i] = 0.0

    def record(
        self, rows: np.ndarray, t: np.ndarray, alert: np.ndarray
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """:meth:`AlertScorer.record` of step ``t`` of each of ``rows``; returns the
        rewards (the scores added) with their components."""
        window = self.window_of[rows, t]
        inside = window >= 0
        column = np.where(inside, window, 0)
        false_alert = alert & ~inside
        first = alert & inside & (self.detected_at[rows, column] < 0)
        self.detected_at[rows[first], window[first]] = t[first]
        ending = self.last_step_of[rows, t]
        ends = ending >= 0
        missed = ends & (self.detected_at[rows, np.where(ends, ending, 0)] < 0)
        rewards = {
            "detection": np.where(first, self.credit[rows, t], 0.0),
            "false_alert": 0.0 - false_alert,
            "miss": 0.0 - missed,
        }
        tp, fp, fn = self.weights
        reward = tp * rewards["detection"] + fp * rewards["false_alert"] + fn * rewards["miss"]
        self.score[rows] += reward
        self.alerts[rows] += alert
        self.false_alerts[rows] += false_alert
        return reward, rewards

    def metrics(self, i: int) -> dict[str, float]:
        """:meth:`AlertScorer.metrics` of instance i."""
        scorer = self.scorers[i]
        scorer.detected_at = self.detected_at[i, : len(scorer.windows)].tolist()
        scorer.alerts, scorer.false_alerts = int(self.alerts[i]), int(self.false_alerts[i])
        scorer.score = float(self.score[i])
        return scorer.metrics()
