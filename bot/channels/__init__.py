"""Rasa input channels of the assistant (REST, Socket.IO, SMS)."""
