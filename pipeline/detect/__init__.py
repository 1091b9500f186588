"""Detect: the settings detection reads (thresholds, the catalogue of causes with diagnosis and
fix, written as config tables before the models build) and the scorer of detection against
labelled scenarios. The detection itself is SQL (sql/, after the marts)."""
