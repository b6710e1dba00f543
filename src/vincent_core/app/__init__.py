"""The application side: listeners, services, dispatch and workers."""

from vincent_core.app.listener import Listener, Route
from vincent_core.app.service import Service
from vincent_core.app.vincent import Vincent

__all__ = ["Listener", "Route", "Service", "Vincent"]
