"""Everything read from files: dealers into sites, demand, existing stations, the sample."""
