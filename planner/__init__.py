"""planner: choose Renault and Nissan dealer sites for 800 V high-power chargers.

Dealer lists of both brands go in, a facility-location optimiser picks the
sites (and how many chargers each), and a self-contained HTML map, tables and
a report come out for review.
"""

__version__ = "0.1.0"
