"""voxlab.data.corpora."""
