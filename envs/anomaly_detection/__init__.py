"""opsgym/AnomalyDetection: when to page a human about a service's metrics."""

from opsgym.envs.anomaly_detection.config import AnomalyDetectionConfig
from opsgym.envs.anomaly_detection.env import AnomalyDetectionEnv
from opsgym.envs.anomaly_detection.oracle import LabelOracle
from opsgym.envs.anomaly_detection.simulator import AlertScorer
from opsgym.envs.anomaly_detection.vector import AnomalyDetectionVectorEnv

ENV = AnomalyDetectionEnv
VECTOR_ENV = AnomalyDetectionVectorEnv
SCENARIOS = {
    "nyc-taxi": (
        "NAB's NYC taxi series with its five labelled windows (marathon, holidays, blizzard)",
        {"workload": "nyc_taxi"},
    ),
}

__all__ = ["AlertScorer", "AnomalyDetectionConfig", "AnomalyDetectionEnv", "LabelOracle"]
