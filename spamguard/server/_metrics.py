"""Counters and a latency histogram, written out in the Prometheus text format.

Small enough to write by hand (no dependency): one lock, a few dicts.
"""

from __future__ import annotations

import threading
from collections import Counter

__all__ = ["Metrics", "LATENCY_BUCKETS"]

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
"""Upper bounds (seconds) of the request latency histogram."""


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


class Metrics:
    """What the service counts: requests by endpoint and status, verdicts, invalid answers, latency."""

    def __init__(self, info: dict[str, str] | None = None) -> None:
        self.info = dict(info or {})
        self._lock = threading.Lock()
        self._requests: Counter[tuple[str, str]] = Counter()
        self._verdicts: Counter[str] = Counter({"spam": 0, "ham": 0, "discard": 0})
        self._invalid: Counter[str] = Counter()
        self._buckets: dict[str, list[int]] = {}
        self._sums: dict[str, float] = {}
        self._counts: Counter[str] = Counter()
        self._model_calls = 0
        self._model_comments = 0

    def request(self, endpoint: str, status: int, seconds: float) -> None:
        """Count one answered request and its latency."""
        with self._lock:
            self._requests[(endpoint, str(status))] += 1
            buckets = self._buckets.setdefault(endpoint, [0] * len(LATENCY_BUCKETS))
            for i, bound in enumerate(LATENCY_BUCKETS):
                if seconds <= bound:
                    buckets[i] += 1
                    break
            self._sums[endpoint] = self._sums.get(endpoint, 0.0) + seconds
            self._counts[endpoint] += 1

    def verdict(self, kind: str) -> None:
        """Count one comment-check answer: ``spam``, ``ham`` or ``discard`` (discard is also spam)."""
        with self._lock:
            self._verdicts[kind] += 1

    def model_call(self, comments: int) -> None:
        """Count one call of the model that judged ``comments`` comments (several when batched)."""
        with self._lock:
            self._model_calls += 1
            self._model_comments += comments

    def invalid(self, endpoint: str) -> None:
        """Count one ``invalid`` answer."""
        with self._lock:
            self._invalid[endpoint] += 1

    def requests_total(self, endpoint: str, status: int) -> int:
        """How many requests to ``endpoint`` were answered with ``status``."""
        with self._lock:
            return self._requests[(endpoint, str(status))]

    def render(self) -> str:
        """The metrics in the Prometheus text exposition format (version 0.0.4)."""
        with self._lock:
            lines = []
            if self.info:
                labels = ",".join(f'{k}="{_escape(v)}"' for k, v in sorted(self.info.items()))
                lines += [
                    "# HELP spamguard_info The running spamguard service and its model.",
                    "# TYPE spamguard_info gauge",
                    f"spamguard_info{{{labels}}} 1",
                ]
            lines += [
                "# HELP spamguard_requests_total Requests answered, by endpoint and HTTP status.",
                "# TYPE spamguard_requests_total counter",
            ]
            for (endpoint, status), n in sorted(self._requests.items()):
                lines.append(f'spamguard_requests_total{{endpoint="{endpoint}",status="{status}"}} {n}')
            lines += [
                "# HELP spamguard_verdicts_total comment-check answers: spam, ham, and discard (blatant spam).",
                "# TYPE spamguard_verdicts_total counter",
            ]
            for kind, n in sorted(self._verdicts.items()):
                lines.append(f'spamguard_verdicts_total{{verdict="{kind}"}} {n}')
            lines += [
                "# HELP spamguard_model_calls_total Calls of the model (concurrent checks share one).",
                "# TYPE spamguard_model_calls_total counter",
                f"spamguard_model_calls_total {self._model_calls}",
                "# HELP spamguard_model_comments_total Comments the model judged.",
                "# TYPE spamguard_model_comments_total counter",
                f"spamguard_model_comments_total {self._model_comments}",
            ]
            lines += [
                "# HELP spamguard_invalid_total Requests answered `invalid` (bad key, site or parameters).",
                "# TYPE spamguard_invalid_total counter",
            ]
            for endpoint, n in sorted(self._invalid.items()):
                lines.append(f'spamguard_invalid_total{{endpoint="{endpoint}"}} {n}')
            lines += [
                "# HELP spamguard_request_duration_seconds Time to answer a request, by endpoint.",
                "# TYPE spamguard_request_duration_seconds histogram",
            ]
            for endpoint in sorted(self._buckets):
                cumulative = 0
                for bound, n in zip(LATENCY_BUCKETS, self._buckets[endpoint], strict=True):
                    cumulative += n
                    lines.append(
                        f'spamguard_request_duration_seconds_bucket{{endpoint="{endpoint}",le="{bound}"}} {cumulative}'
                    )
                count = self._counts[endpoint]
                lines.append(f'spamguard_request_duration_seconds_bucket{{endpoint="{endpoint}",le="+Inf"}} {count}')
                total = self._sums[endpoint]
                lines.append(f'spamguard_request_duration_seconds_sum{{endpoint="{endpoint}"}} {total:.6f}')
                lines.append(f'spamguard_request_duration_seconds_count{{endpoint="{endpoint}"}} {count}')
        return "\n".join(lines) + "\n"
