"""voxlab.data."""
