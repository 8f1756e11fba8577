"""voxlab.models.detectors."""
