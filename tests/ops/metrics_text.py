"""Reading the Prometheus text format back: sums of samples by name and labels."""

from __future__ import annotations

from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families


def total(text: str, name: str, **labels: str) -> float:
    """The sum of every sample called ``name`` whose labels include ``labels``."""
    found = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                found += sample.value
    return found


def names(text: str) -> set[str]:
    return {sample.name for f in text_string_to_metric_families(text) for sample in f.samples}


def now(name: str, **labels: str) -> float:
    """This process's current value (the tests count in one process)."""
    return REGISTRY.get_sample_value(name, labels) or 0.0
