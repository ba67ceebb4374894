"""The RDS endpoint's routes: moto's, answered by :class:`TwinRdsResponse` (moto finds a
backend's routes in the ``urls`` module beside it)."""

from __future__ import annotations

from moto.rds.urls import url_bases

from drillbook.twin.rds.responses import TwinRdsResponse

__all__ = ["url_bases", "url_paths"]

url_paths = {"{0}/$": TwinRdsResponse.dispatch}
