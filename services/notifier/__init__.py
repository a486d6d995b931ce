"""Notifier: tells every person and department who must know, once, on the channel they use."""
