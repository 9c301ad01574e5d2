"""Models for trips: stations that let long-distance drives be made (flow refuelling)."""

from planner.optimise.flow.model import LocalDemand, flow_refuelling, served_trips
from planner.optimise.flow.paths import TripPaths

__all__ = ["LocalDemand", "TripPaths", "flow_refuelling", "served_trips"]
