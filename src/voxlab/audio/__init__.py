"""voxlab.audio."""
