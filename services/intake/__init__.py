"""Intake: the front door. Takes residents' reports, stores them durably, publishes CaseReported."""
