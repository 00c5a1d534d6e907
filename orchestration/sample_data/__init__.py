"""The sample data: a deterministic generator of realistic raw product events in the landing-zone layout
(generator.py), from the events of dwell's catalog (catalog.py), the people behind them (dimensions.py), their
simulation (events.py) and the files written (writer.py). `python -m orchestration.sample_data` runs command.py."""

from orchestration.sample_data.generator import DEFAULT_START_DATE, SampleSummary, generate_sample

__all__ = ["DEFAULT_START_DATE", "SampleSummary", "generate_sample"]
