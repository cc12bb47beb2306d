"""The local runtime's event sources: SQS pollers, S3 notifications and EventBridge schedules."""

from endurance_local.event_sources.manager import EventSources
from endurance_local.event_sources.schedule import next_fire_time, parse_schedule

__all__ = ["EventSources", "next_fire_time", "parse_schedule"]
