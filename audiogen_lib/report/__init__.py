"""The experiments' results as Markdown tables, text, figures and files; ``reproduce`` runs them all.

Every number with an interval is printed ``estimate [low, high]``, the 95% interval of
:mod:`audiogen_lib.stats`.

Public names
------------
By module; each module's docstring says what each name is.

formatting    LABELS, READING_LABELS, CONDITIONS, markdown_table, interval_text, direction
verdicts      verdict_table, verdict_rule, held_up, claims_table, seeds_table, rejudge, rejudge_file
tables        reconstruction_table, comparison_table, robustness_table, convergence_table, generation_table,
              markdown_report
goals         GOALS, generation_goals, goals_table; goal_status (from :mod:`audiogen_lib.stats`)
reproduction  reproduce, Reproduction, write_figures (each file all or nothing, :func:`audiogen_lib.files.atomic_write`)

Notebook: notebooks/09_listening_experiments.ipynb
"""

from .formatting import CONDITIONS, LABELS, READING_LABELS, _ci, direction, interval_text, markdown_table
from .goals import GOALS, generation_goals, goal_status, goals_table
from .reproduction import Reproduction, reproduce, write_figures
from .tables import (comparison_table, convergence_table, generation_table, markdown_report, reconstruction_table,
                     robustness_table)
from .verdicts import claims_table, held_up, rejudge, rejudge_file, seeds_table, verdict_rule, verdict_table
