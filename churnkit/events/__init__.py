"""Stage 1 of the flow: raw tables -> :class:`Events`, the validated event store."""

from churnkit.events._events import Events

__all__ = ["Events"]
