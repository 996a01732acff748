"""Bounded output capture: the first and last bytes of a command's output, with a marker for what was dropped."""

from __future__ import annotations

__all__ = ["BoundedCapture"]


class BoundedCapture:
    """Keeps at most ``limit`` bytes: the first half and the last half of everything fed; the middle is counted."""

    def __init__(self, limit: int) -> None:
        self._head_limit = max(limit // 2, 0)
        self._tail_limit = max(limit - self._head_limit, 0)
        self._head = bytearray()
        self._tail = bytearray()
        self._total = 0

    @property
    def total(self) -> int:
        return self._total

    def feed(self, chunk: bytes) -> None:
        self._total += len(chunk)
        room = self._head_limit - len(self._head)
        if room > 0:
            self._head += chunk[:room]
            chunk = chunk[room:]
        if chunk:
            self._tail += chunk
            excess = len(self._tail) - self._tail_limit
            if excess > 0:
                del self._tail[:excess]

    def text(self) -> str:
        """The captured output as text (invalid UTF-8 replaced), with ``[... N bytes omitted ...]`` where cut."""
        dropped = self._total - len(self._head) - len(self._tail)
        if dropped <= 0:
            return bytes(self._head + self._tail).decode("utf-8", errors="replace")
        head = self._head.decode("utf-8", errors="replace")
        tail = self._tail.decode("utf-8", errors="replace")
        return f"{head}\n[... {dropped} bytes omitted ...]\n{tail}"
