"""ringway-tune: finds ringway's sustainable rate (the knee) under an SLO,
sweeps the engine knobs, checks the kernel settings, and writes a report.

Modules, one job each:
  units.py    parsing of SLOs, durations, rates, CPU plans (pure)
  search.py   the knee search: geometric step-up + bisection (pure)
  yamlcfg.py  line-based rewriting of a ringway YAML config (pure)
  sweep.py    one-knob-at-a-time sweep values and selection (pure)
  sysctl.py   kernel settings check against the edge profile (pure, root dir injectable)
  runner.py   processes: origin, ringway, ringway-load, CPU accounting
  tuner.py    a knee per configuration, and the sweep on top of it
  report.py   report.md, report.json, tuned.yaml, gnuplot curve
  machine.py  machine description, stamped output folder
  progress.py the live progress line
  cli.py      arguments, orchestration, exit codes
"""

VERSION = "1.0"
