"""Shared set-up of the web tests."""

from sanic import Sanic

# Several Sanic apps start and stop in one test process: Sanic's test mode lets it re-optimise
# its HTTP protocol for each one (and allows the same app name twice).
Sanic.test_mode = True
