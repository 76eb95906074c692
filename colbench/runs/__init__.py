"""Runs: the directory `colbench eval` writes (directory.py) and the typed episode record
each of its lines holds (record.py)."""

from colbench.runs.directory import (EPISODES_FILE, LOCK_FILE, RUN_FILE, SUMMARY_FILE, EpisodeWriter, RunDir,
                                     record_frame)
from colbench.runs.record import RECORD_VERSION, EpisodeRecord, RecordError, TestResult, Turn, Usage, read_record

__all__ = ["EPISODES_FILE", "LOCK_FILE", "RUN_FILE", "SUMMARY_FILE", "EpisodeWriter", "RunDir", "record_frame",
           "RECORD_VERSION", "EpisodeRecord", "RecordError", "TestResult", "Turn", "Usage", "read_record"]
