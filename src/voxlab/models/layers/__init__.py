"""voxlab.models.layers."""
