"""Graphs written in Python: functions that return a `Graph`, for a model config's
`graph: {_target_: plait.models.<function>, <argument>: ...}`."""

from plait.models.headline import headline

__all__ = ["headline"]
