"""yhdyspinta: scheduling and meeting orchestration for cooperation bodies of Finnish
municipalities and wellbeing services counties."""

__version__ = "0.1.0"
