"""voxlab.models."""
