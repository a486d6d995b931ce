"""The event envelope, the public event contracts and their wire form."""
