"""One scenario end to end: the model registry, the plan, chargers per site, report, frontier."""
