"""Tracker: projects every case event into the case history and serves it to the command center."""
