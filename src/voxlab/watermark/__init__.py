"""voxlab.watermark."""
