"""The bundled reference server: the suite's default target, and a mock for SDK authors."""

from fpjs_conformance.refserver.app import Answer, Dialect, Event, ReferenceServer, Settings

__all__ = ["Answer", "Dialect", "Event", "ReferenceServer", "Settings"]
