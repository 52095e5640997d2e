"""The :class:`Guard`: the remote service first, the local model when it fails, a policy on top.

A package of three parts: the Guard itself (``_guard``), its asyncio path (``_async``:
``acheck`` and ``areport_*`` awaiting an async remote) and the circuit breaker that stops it
calling a remote that keeps failing (``_circuit``, :class:`CircuitBreaker`).
"""

from __future__ import annotations

from ._circuit import CircuitBreaker
from ._guard import DEFAULT_LATENCY_BUDGET, MODES, Guard

__all__ = ["CircuitBreaker", "DEFAULT_LATENCY_BUDGET", "Guard", "MODES"]
