"""voxlab command line."""
