"""The benchmark driver behind ``griddesk bench``: a tool, not a service.

It starts the whole system in a temporary directory, drives reports into intake over HTTP as channel
clients do, follows the events through the EventLog port, measures throughput, latency and memory,
and compares the pipeline with the transport's own rate for the same records. See docs/benchmarks.md.
"""
