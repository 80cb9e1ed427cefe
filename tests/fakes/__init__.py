"""Loopback fakes of the outside world that speak the real wire protocols."""
