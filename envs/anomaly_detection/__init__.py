"""opsgym/AnomalyDetection: when to page a human about a service's metrics."""

from opsgym.envs.anomaly_detection.config import AnomalyDetectionConfig
from opsgym.envs.anomaly_detection.env import AnomalyDetectionEnv
from opsgym.envs.anomaly_detection.oracle import LabelOracle
from opsgym.envs.anomaly_detection.simulator import AlertScorer

__all__ = ["AlertScorer", "AnomalyDetectionConfig", "AnomalyDetectionEnv", "LabelOracle"]
