"""The orchestrator: reconciles the stored container instances against the Docker engine."""
