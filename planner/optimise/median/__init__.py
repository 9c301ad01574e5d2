"""The p-median model: least demand-weighted travel to the nearest chosen site."""
