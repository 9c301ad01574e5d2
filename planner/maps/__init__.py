"""The offline HTML maps: one per plan, and the side-by-side comparison page."""
