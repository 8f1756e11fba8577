"""One reader per corpus; each turns the corpus as distributed into Utterance records."""

from voxlab.data.corpora.asvspoof5 import prepare_asvspoof5, read_asvspoof5_protocol
from voxlab.data.corpora.asvspoof2019 import prepare_asvspoof2019, read_cm_protocol
from voxlab.data.corpora.asvspoof2021 import prepare_asvspoof2021, read_trial_metadata
from voxlab.data.corpora.generic import prepare_folder, read_csv_list
from voxlab.data.corpora.in_the_wild import prepare_in_the_wild, read_in_the_wild_meta

__all__ = [
    "prepare_asvspoof5",
    "prepare_asvspoof2019",
    "prepare_asvspoof2021",
    "prepare_folder",
    "prepare_in_the_wild",
    "read_asvspoof5_protocol",
    "read_cm_protocol",
    "read_csv_list",
    "read_in_the_wild_meta",
    "read_trial_metadata",
]
