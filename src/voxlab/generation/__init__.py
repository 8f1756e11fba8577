"""voxlab.generation."""
