"""The bundled reference server: the suite's default target, and a mock for SDK authors."""

from refserver.app import Answer, Event, ReferenceServer, Settings

__all__ = ["Answer", "Event", "ReferenceServer", "Settings"]
