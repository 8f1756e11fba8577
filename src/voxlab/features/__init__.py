"""voxlab.features."""
