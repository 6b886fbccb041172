"""The engine adapter: everything that talks to the Docker engine through the SDK."""
