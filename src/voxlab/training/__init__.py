"""voxlab.training."""
