"""voxlab.evaluation."""
